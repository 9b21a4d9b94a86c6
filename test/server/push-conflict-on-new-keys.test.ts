// A bulk upload (every row an INSERT on base 0) whose keys collide with server rows is answered
// exactly like any other conflicting push: 409 push_conflict naming the first conflicting row in
// ordinal order (live row with server_row, or tombstone), nothing of the bundle applied, no
// sequence consumed, and the staging session left for a retry.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_conflict_new_keys' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('newkeys'), 'device-n');
  await dev.connect(false);
  // Seed: live "live", tombstone "gone" (bundle 2), bundle_seq now 2.
  expect((await dev.push(1, [tag('live'), tag('gone')])).body.bundle_seq).toBe(1);
  expect(
    (await dev.push(2, [{ schema: 'business', table: 'tags', key: { name: 'gone' }, op: 'DELETE', base_row_version: 1 }])).body.bundle_seq,
  ).toBe(2);
});
afterAll(() => h?.close());

function tag(name: string, weight = '1'): PushRow {
  return {
    schema: 'business',
    table: 'tags',
    key: { name },
    op: 'INSERT',
    base_row_version: 0,
    payload: { name, color: null, weight, meta: null },
  };
}
const fresh = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => tag(`${prefix}-${i}`));

async function expectNothingApplied(prefix: string): Promise<void> {
  const r = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM business.tags WHERE name LIKE $1`, [`${prefix}-%`]);
  expect(r.rows[0]!.n).toBe(0);
  const rs = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM sync.row_state WHERE key_text LIKE $1`, [`${prefix}-%`]);
  expect(rs.rows[0]!.n).toBe(0);
  const seq = await h.database.query<{ next: string }>(
    `SELECT next_bundle_seq::text AS next FROM sync.user_state WHERE user_id = 'newkeys'`,
  );
  expect(seq.rows[0]!.next).toBe('3');
}

it('a key that is live on the server: conflict with the server row', async () => {
  const session = await dev.createPush(3, 301);
  expect((await dev.chunk(session.body.push_id, 0, [...fresh(200, 'a'), tag('live', '7'), ...fresh(100, 'b')])).status).toBe(200);
  const res = await dev.commit(session.body.push_id);
  expect(res.status).toBe(409);
  expect(res.body.error).toBe('push_conflict');
  expect(res.body.conflict).toEqual({
    schema: 'business',
    table: 'tags',
    key: { name: 'live' },
    op: 'INSERT',
    base_row_version: 0,
    server_row_version: 1,
    server_row_deleted: false,
    server_row: { name: 'live', color: null, weight: '1', meta: null },
  });
  await expectNothingApplied('a');
  await expectNothingApplied('b');
  // The session survives: committing it again reports the same conflict.
  expect((await dev.commit(session.body.push_id)).body.conflict.key).toEqual({ name: 'live' });
});

it('a key whose server row is deleted (tombstone): conflict without a server row', async () => {
  const res = await dev.push(3, [...fresh(50, 'c'), tag('gone'), ...fresh(50, 'd')]);
  expect(res.status).toBe(409);
  expect(res.body.conflict).toEqual({
    schema: 'business',
    table: 'tags',
    key: { name: 'gone' },
    op: 'INSERT',
    base_row_version: 0,
    server_row_version: 2,
    server_row_deleted: true,
    server_row: null,
  });
  await expectNothingApplied('c');
});

it('several collisions: the first in ordinal order is reported, whichever fails first', async () => {
  // The tombstone comes first in the bundle; the live key makes the business INSERT fail earlier.
  const res = await dev.push(3, [...fresh(10, 'e'), tag('gone'), tag('live'), ...fresh(10, 'f')]);
  expect(res.status).toBe(409);
  expect(res.body.conflict).toMatchObject({ key: { name: 'gone' }, server_row_deleted: true, server_row: null });
  const res2 = await dev.push(3, [tag('live'), ...fresh(10, 'g'), tag('gone')]);
  expect(res2.body.conflict).toMatchObject({ key: { name: 'live' }, server_row_version: 1, server_row_deleted: false });
  await expectNothingApplied('e');
  await expectNothingApplied('g');
});

it('a conflict is reported even when another row of the bundle is one PostgreSQL rejects', async () => {
  const U1 = 'aaaaaaaa-0000-4000-8000-0000000000c1';
  const U2 = 'aaaaaaaa-0000-4000-8000-0000000000c2';
  const user = (id: string, createdAt: string): PushRow => ({
    schema: 'business',
    table: 'users',
    key: { id },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id, name: 'u', created_at: createdAt },
  });
  const seeded = await dev.push(3, [user(U1, '2026-01-01T00:00:00Z')]);
  expect(seeded.body.bundle_seq).toBe(3);
  // Row 0 has a timestamp PostgreSQL cannot read (the wire validator accepts any text); row 1 is live on the server.
  const res = await dev.push(4, [user(U2, 'not a timestamp'), user(U1, '2026-01-02T00:00:00Z')]);
  expect(res.status).toBe(409);
  expect(res.body.conflict).toMatchObject({ key: { id: U1 }, op: 'INSERT', server_row_version: 3, server_row_deleted: false });
  // Without the conflict, the rejection itself is the answer.
  const rejected = await dev.push(4, [user(U2, 'not a timestamp')]);
  expect(rejected.body.error).toBe('push_commit_invalid');
  expect(rejected.body.rejection).toMatchObject({ table: 'users', key: { id: U2 }, columns: ['created_at'], reason: 'invalid_value' });
});

it('after the conflicts, a clean bulk upload commits', async () => {
  const res = await dev.push(4, fresh(500, 'h'));
  expect(res.body).toMatchObject({ bundle_seq: 4, row_count: 500 });
});
