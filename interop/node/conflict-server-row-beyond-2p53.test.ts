/**
 * A push conflict whose server row holds a BIGINT beyond 2^53 (stored exactly in PostgreSQL by
 * another client). go-oversync 1f1118f sends that row as PostgreSQL's `to_jsonb` text (exact) unless
 * it rewrote a BYTEA value, in which case Go re-marshals it through float64 (9007199254740993 →
 * 9007199254740992; members then in byte order instead of jsonb's length-then-bytes order):
 * - exact row: resolved (server-wins) with the exact value;
 * - re-marshaled row: refused with `value_not_representable` naming table, key and column, the
 *   local change kept, never resolved against a value that may not be the server's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoPeer } from './support/go-peer.ts';
import { localRows, peerAvailability, startGoPeer, uuid } from './support/go-peer.ts';

const { peerPath } = await peerAvailability();
const OTHER = '7a0c0f3e-2b1d-4c5e-8f60-0000000000ff';
const row = (id: string, name: string, count: string, data: string | null) => ({
  id,
  name,
  note: null,
  count_value: count,
  enabled_flag: '1',
  rating: null,
  data,
  created_at: null,
});

describe.skipIf(!peerPath)('a conflict whose server row holds a BIGINT beyond 2^53', () => {
  let peer: GoPeer;
  beforeAll(async () => {
    peer = await startGoPeer(peerPath!);
  });
  afterAll(() => peer?.close());

  async function conflictOn(user: string, data: string | null) {
    const id = uuid(1);
    await peer.rawPush(user, OTHER, 1, [
      { schema: 'business', table: 'typed_rows', key: { id }, op: 'INSERT', base_row_version: 0, payload: row(id, 'first', '1', data) },
    ]);
    const d = await peer.device(user);
    await d.engine.attach(user);
    // Another client moves the row on, to a BIGINT beyond 2^53 (stored exactly in PostgreSQL).
    await peer.rawPush(user, OTHER, 2, [
      {
        schema: 'business',
        table: 'typed_rows',
        key: { id },
        op: 'UPDATE',
        base_row_version: 1,
        payload: row(id, 'big', '9007199254740993', data),
      },
    ]);
    d.db.exec(`UPDATE typed_rows SET name = 'local edit' WHERE id = '${id}'`);
    return { d, result: await d.engine.pushPending().catch((e: unknown) => e) };
  }

  it("resolves against the exact value when the row is PostgreSQL's text", async () => {
    const { d, result } = await conflictOn('yara', null);
    expect(result).toMatchObject({ outcome: 'no_change', conflicts: 1 });
    expect(localRows(d.db, 'typed_rows', 'name, count_value')).toEqual([{ name: 'big', count_value: 9007199254740993n }]);
    expect(d.engine.status.pendingCount).toBe(0);
  });

  it('refuses the conflict when Go re-marshaled the row through float64', async () => {
    const { d, result } = await conflictOn('zeno', 'AAE=');
    expect(result).toMatchObject({ code: 'value_not_representable', detail: { table: 'typed_rows', key: uuid(1), column: 'count_value' } });
    expect(d.engine.status.pendingCount).toBe(1);
    expect(localRows(d.db, 'typed_rows', 'name, count_value')).toEqual([{ name: 'local edit', count_value: 1 }]);
    expect(await peer.pgRows('typed_rows', 'zeno', 'name, count_value::text')).toEqual([{ name: 'big', count_value: '9007199254740993' }]);
  });
});
