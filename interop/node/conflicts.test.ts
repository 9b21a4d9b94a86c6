/**
 * Conflicts through go-oversync's server: device A commits an update first, device B's concurrent
 * update of the same row (base version behind) conflicts; server-wins, client-wins and a custom
 * resolver each decide, with one `conflict` event, and every side ends equal to PostgreSQL. The
 * row has an INTEGER, a REAL and a BLOB: go-oversync's conflict carries its server row in JSON
 * numbers, read exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConflictEventDetail, ConflictResolver, SyncEngineOptions } from '../../worker/engine/index.ts';
import type { GoPeer } from './support/go-peer.ts';
import { localRows, peerAvailability, startGoPeer, uuid } from './support/go-peer.ts';

const { peerPath } = await peerAvailability();

describe.skipIf(!peerPath)('conflicts through go-oversync', () => {
  let peer: GoPeer;
  beforeAll(async () => {
    peer = await startGoPeer(peerPath!);
  });
  afterAll(() => peer?.close());

  let n = 0;
  async function scenario(conflicts: SyncEngineOptions['conflicts']) {
    const user = `conflict-${++n}`;
    const a = await peer.device(user);
    const b = await peer.device(user, { conflicts });
    await a.engine.attach(user);
    a.db.exec(
      `INSERT INTO typed_rows(id, name, count_value, enabled_flag, rating, data) VALUES ('${uuid(1)}', 'Original', 1, 0, 1.5, x'01')`,
    );
    await a.engine.sync();
    await b.engine.attach(user);
    a.db.exec(`UPDATE typed_rows SET name = 'From A', count_value = 2 WHERE id = '${uuid(1)}'`);
    await a.engine.sync();
    b.db.exec(`UPDATE typed_rows SET name = 'From B', rating = 2.25, data = x'02' WHERE id = '${uuid(1)}'`);
    const events: ConflictEventDetail[] = [];
    b.engine.subscribe((e) => e.type === 'conflict' && events.push(e.conflict));
    const res = await b.engine.sync();
    await a.engine.sync();
    const pg = await peer.pgRows('typed_rows', user, "name, count_value::text, rating, encode(data, 'hex') AS data");
    return { a, b, res, events, pg };
  }

  it("server-wins (default): B takes A's row", async () => {
    const { a, b, events, pg } = await scenario(undefined);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ table: 'typed_rows', key: uuid(1), localOp: 'UPDATE', serverVersion: 2, resolution: 'server' });
    expect(localRows(b.db, 'typed_rows', 'name, count_value, rating, hex(data) AS data')).toEqual([
      { name: 'From A', count_value: 2, rating: 1.5, data: '01' },
    ]);
    expect(localRows(a.db, 'typed_rows')).toEqual(localRows(b.db, 'typed_rows'));
    expect(pg).toEqual([{ name: 'From A', count_value: '2', rating: 1.5, data: '01' }]);
    expect(b.engine.status.pendingCount).toBe(0);
  });

  it("client-wins: B's row is pushed on top of the server version", async () => {
    const { a, b, events, pg, res } = await scenario('client-wins');
    expect(events[0]).toMatchObject({ resolution: 'local', serverVersion: 2 });
    expect(res.push).toMatchObject({ outcome: 'committed', conflicts: 1 });
    expect(localRows(b.db, 'typed_rows', 'name, count_value, rating, hex(data) AS data')).toEqual([
      { name: 'From B', count_value: 1, rating: 2.25, data: '02' },
    ]);
    expect(localRows(a.db, 'typed_rows')).toEqual(localRows(b.db, 'typed_rows'));
    expect(pg).toEqual([{ name: 'From B', count_value: '1', rating: 2.25, data: '02' }]);
  });

  it('custom resolver merges server and local columns', async () => {
    const merge: ConflictResolver = (ctx) => ({ row: { ...ctx.serverRow, rating: (ctx.localRow as { rating: unknown }).rating } });
    const { a, b, events, pg } = await scenario(merge);
    expect(events[0]).toMatchObject({ resolution: 'merged' });
    expect(localRows(b.db, 'typed_rows', 'name, count_value, rating')).toEqual([{ name: 'From A', count_value: 2, rating: 2.25 }]);
    expect(localRows(a.db, 'typed_rows')).toEqual(localRows(b.db, 'typed_rows'));
    expect(pg).toEqual([{ name: 'From A', count_value: '2', rating: 2.25, data: '01' }]);
    expect(b.engine.status.pendingCount).toBe(0);
  });
});
