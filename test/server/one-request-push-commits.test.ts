// One-request push (our extension `oversqlite_extensions.one_request_push`): a create carrying all
// the bundle's rows and `commit: true` creates, stages, applies and finalizes in one transaction
// and answers exactly as the commit endpoint does; no staging session is left behind. A server
// with the extension switched off advertises nothing and answers exactly the oversync protocol.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundleHash } from '../../protocol/hashes.ts';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let off: StartedSyncServer;
const USER = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';
const HASH = 'c'.repeat(64);

beforeAll(async () => {
  [h, off] = await Promise.all([
    startSyncServer({ purpose: 'one_request_push' }),
    startSyncServer({ purpose: 'one_request_push_off', oneRequestPush: false, limits: { maxRowsPerPushChunk: 7 } }),
  ]);
});
afterAll(async () => {
  await Promise.all([h?.close(), off?.close()]);
});

const rows: PushRow[] = [
  {
    schema: 'business',
    table: 'users',
    key: { id: USER },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id: USER, name: 'Ada', email: null, created_at: '2026-03-24T10:42:11-08:00' },
  },
  {
    schema: 'business',
    table: 'projects',
    key: { id: PROJECT },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id: PROJECT, owner_id: USER, title: 'P', budget: '12.3', archived: '1' },
  },
];

it('advertises the extension with its limits; switched off, capabilities carry no extension field', async () => {
  const caps = (await new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'device-a').capabilities()).body;
  expect(caps.oversqlite_extensions).toEqual({
    one_request_push: { max_rows: caps.bundle_limits.max_rows_per_push_chunk, max_request_bytes: 32 * 1024 * 1024 },
  });
  const offCaps = (await new RawSyncClient(off.baseUrl, off.tokenFor('alice'), 'device-a').capabilities()).body;
  expect('oversqlite_extensions' in offCaps).toBe(false);
  expect(offCaps.bundle_limits.max_rows_per_push_chunk).toBe(7);
});

it("commits a bundle in one request with the commit endpoint's answer, leaving no session", async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'device-a');
  expect((await dev.connect(false)).body).toEqual({ resolution: 'initialize_empty' });
  const r = await dev.pushInOneRequest(1, rows, { canonical_request_hash: HASH });
  expect(r.status).toBe(200);
  expect(Object.keys(r.body).sort()).toEqual([
    'bundle_hash',
    'bundle_seq',
    'canonical_request_hash',
    'row_count',
    'source_bundle_id',
    'source_id',
  ]);
  expect(r.body).toMatchObject({ bundle_seq: 1, source_id: 'device-a', source_bundle_id: 1, row_count: 2, canonical_request_hash: HASH });
  const page = await dev.committedRows(1);
  expect(page.body.rows.map((x: { table: string; row_version: number }) => `${x.table}@${x.row_version}`)).toEqual([
    'users@1',
    'projects@1',
  ]);
  expect(page.body.rows[1].payload).toEqual({ id: PROJECT, owner_id: USER, title: 'P', budget: '12.30', archived: true });
  expect(await bundleHash(page.body.rows)).toBe(r.body.bundle_hash);
  const sessions = await h.database.query<{ n: number }>('SELECT count(*)::int AS n FROM sync.push_sessions');
  expect(sessions.rows[0]!.n).toBe(0);
  // The next bundle of the same source goes the ordinary way: the sequence moved on.
  const next = await dev.push(
    2,
    [
      {
        schema: 'business',
        table: 'users',
        key: { id: USER },
        op: 'UPDATE',
        base_row_version: 1,
        payload: { id: USER, name: 'Ada L', email: null, created_at: '2026-03-24T18:42:11Z' },
      },
    ],
    1000,
    { canonical_request_hash: HASH },
  );
  expect(next.body).toMatchObject({ bundle_seq: 2, source_bundle_id: 2, row_count: 1 });
});

it('gives the same bundle_hash as the three-request path for the same rows', async () => {
  const other = await startSyncServer({ purpose: 'one_request_push_cmp', oneRequestPush: false });
  try {
    const dev = new RawSyncClient(other.baseUrl, other.tokenFor('alice'), 'device-a');
    await dev.connect(false);
    const three = await dev.push(1, rows, 1, { canonical_request_hash: HASH });
    const one = (await new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'device-a').committedRows(1)).body;
    expect(three.body).toEqual({
      bundle_seq: 1,
      source_id: 'device-a',
      source_bundle_id: 1,
      row_count: 2,
      bundle_hash: one.bundle_hash,
      canonical_request_hash: HASH,
    });
  } finally {
    await other.close();
  }
});

it('a server with the extension off refuses rows in a create with a typed error, creating nothing', async () => {
  const dev = new RawSyncClient(off.baseUrl, off.tokenFor('bob'), 'device-b');
  await dev.connect(false);
  const r = await dev.pushInOneRequest(1, rows, { canonical_request_hash: HASH });
  expect(r.status).toBe(400);
  expect(r.body.error).toBe('push_session_invalid');
  expect(r.body.message).toMatch(/does not offer the one-request push/);
  const sessions = await off.database.query<{ n: number }>('SELECT count(*)::int AS n FROM sync.push_sessions');
  expect(sessions.rows[0]!.n).toBe(0);
});
