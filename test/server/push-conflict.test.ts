// Two devices of one user race on the same row: the loser's commit gets 409 push_conflict with
// the server row, nothing of its bundle is applied, and its staging session survives.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
const ID = '33333333-3333-4333-8333-333333333333';
const OTHER = '44444444-4444-4444-8444-444444444444';
const user = (name: string, base: number, op: 'INSERT' | 'UPDATE' = 'UPDATE') => ({
  schema: 'business',
  table: 'users',
  key: { id: ID },
  op,
  base_row_version: base,
  payload: { id: ID, name, email: null, created_at: '2026-01-01T00:00:00Z' },
});

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_conflict' });
});
afterAll(() => h?.close());

it('the second writer on a stale base gets push_conflict with server_row, and nothing of its bundle lands', async () => {
  const a = new RawSyncClient(h.baseUrl, h.tokenFor('bob'), 'device-a');
  const b = a.withSource('device-b');
  expect((await a.connect(false)).body.resolution).toBe('initialize_empty');
  expect((await b.connect(false)).body.resolution).toBe('remote_authoritative');
  expect((await a.push(1, [user('seed', 0, 'INSERT')])).body.bundle_seq).toBe(1);

  // Both stage an update on base 1; A commits first.
  const bSession = await b.createPush(1, 2);
  await b.chunk(bSession.body.push_id, 0, [
    {
      schema: 'business',
      table: 'users',
      key: { id: OTHER },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: OTHER, name: 'x', created_at: '2026-01-01T00:00:00Z' },
    },
    user('from B', 1),
  ]);
  expect((await a.push(2, [user('from A', 1)])).body.bundle_seq).toBe(2);

  const lost = await b.commit(bSession.body.push_id);
  expect(lost.status).toBe(409);
  expect(lost.body.error).toBe('push_conflict');
  expect(lost.body.conflict).toEqual({
    schema: 'business',
    table: 'users',
    key: { id: ID },
    op: 'UPDATE',
    base_row_version: 1,
    server_row_version: 2,
    server_row_deleted: false,
    server_row: { id: ID, name: 'from A', email: null, created_at: '2026-01-01T00:00:00+00:00' },
  });
  // The non-conflicting INSERT of B's bundle was not applied.
  const live = await h.database.query(`SELECT count(*)::int AS n FROM business.users WHERE id = $1`, [OTHER]);
  expect(live.rows[0]).toEqual({ n: 0 });
  // The staging session survives the conflict: a retry on it reports the same conflict.
  expect((await b.commit(bSession.body.push_id)).body.error).toBe('push_conflict');

  // B resolves: re-creates its bundle on the server version and wins.
  const retry = await b.push(1, [user('from B', 2)]);
  expect(retry.body).toMatchObject({ bundle_seq: 3, source_id: 'device-b', source_bundle_id: 1 });
});

it('reports conflicts for INSERT over a live row and UPDATE/DELETE of a missing or deleted row', async () => {
  const a = new RawSyncClient(h.baseUrl, h.tokenFor('carol'), 'dev');
  await a.connect(false);
  await a.push(1, [user('c', 0, 'INSERT')]);
  const insertLive = await a.push(2, [user('again', 0, 'INSERT')]);
  expect(insertLive.body.conflict).toMatchObject({ op: 'INSERT', server_row_version: 1, server_row_deleted: false });
  const missing = await a.push(2, [{ schema: 'business', table: 'users', key: { id: OTHER }, op: 'DELETE', base_row_version: 0 }]);
  expect(missing.body.conflict).toMatchObject({ op: 'DELETE', server_row_version: 0, server_row_deleted: false, server_row: null });
  expect(
    (await a.push(2, [{ schema: 'business', table: 'users', key: { id: ID }, op: 'DELETE', base_row_version: 1 }])).body.bundle_seq,
  ).toBe(2);
  const deleted = await a.push(3, [user('zombie', 2)]);
  expect(deleted.body.conflict).toMatchObject({ op: 'UPDATE', server_row_version: 2, server_row_deleted: true, server_row: null });
  // Re-inserting a deleted key on the tombstone's version is allowed.
  expect((await a.push(3, [user('reborn', 2, 'INSERT')])).body.bundle_seq).toBe(3);
});
