// A row the server accepts must be servable to a new device: a pushed row whose snapshot row would
// exceed max_bytes_per_snapshot_row is refused at push (typed 400 naming table and key, nothing
// staged), and by default the row limit follows the request body limit, so any row one push can
// carry can be snapshotted (found by the go-oversync Go client's large-blob interop scenario).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const SCHEMA = `
CREATE SCHEMA business;
CREATE TABLE business.files (_sync_scope_id text NOT NULL, id text NOT NULL, data bytea, PRIMARY KEY (_sync_scope_id, id));
`;
const TABLES = [{ schema: 'business', table: 'files', syncKey: 'id' }];
const LIMIT = 64 * 1024;

let small: StartedSyncServer;
let standard: StartedSyncServer;
beforeAll(async () => {
  small = await startSyncServer({
    purpose: 'row_too_large_small',
    schemaSql: SCHEMA,
    tables: TABLES,
    limits: { maxBytesPerSnapshotRow: LIMIT },
  });
  standard = await startSyncServer({ purpose: 'row_too_large_default', schemaSql: SCHEMA, tables: TABLES });
});
afterAll(async () => {
  await small?.close();
  await standard?.close();
});

/** Base64 text of `bytes` bytes (the contracts' BLOB wire form). */
function blob(bytes: number): string {
  return Buffer.alloc(bytes, 7).toString('base64');
}

function insert(id: string, bytes: number) {
  return { schema: 'business', table: 'files', key: { id }, op: 'INSERT', base_row_version: 0, payload: { id, data: blob(bytes) } };
}

it('refuses a row above max_bytes_per_snapshot_row at push, naming table and key, and stages nothing', async () => {
  const dev = new RawSyncClient(small.baseUrl, small.tokenFor('ana'), 'device-a');
  expect((await dev.connect(false)).status).toBe(200);
  const created = await dev.createPush(1, 2, { canonical_request_hash: 'a'.repeat(64) });
  expect(created.status).toBe(200);
  const res = await dev.chunk(created.body.push_id, 0, [insert('fits', 1000), insert('huge', LIMIT)]);
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('push_chunk_invalid');
  expect(res.body.message).toContain('business.files key "huge"');
  expect(res.body.message).toContain(`max_bytes_per_snapshot_row ${LIMIT}`);
  const staged = await small.testDatabase.database.query<{ n: string }>('SELECT count(*)::text AS n FROM sync.push_session_rows');
  expect(staged.rows[0]!.n).toBe('0');

  // The same device pushes what fits; a new device hydrates it.
  const ok = await dev.push(1, [insert('fits', 1000)], 1000, { canonical_request_hash: 'b'.repeat(64) });
  expect(ok.status).toBe(200);
  const fresh = new RawSyncClient(small.baseUrl, small.tokenFor('ana'), 'device-b');
  const snap = await fresh.createSnapshot();
  expect(snap.status).toBe(200);
  expect(snap.body.row_count).toBe(1);
});

it('by default serves in a snapshot any row one push request can carry (a 5 MiB BLOB)', async () => {
  const dev = new RawSyncClient(standard.baseUrl, standard.tokenFor('bo'), 'device-a');
  expect((await dev.connect(false)).status).toBe(200);
  const pushed = await dev.push(1, [insert('big', 5 * 1024 * 1024)], 1000, { canonical_request_hash: 'c'.repeat(64) });
  expect(pushed.status).toBe(200);
  const caps = await dev.capabilities();
  expect(caps.body.bundle_limits.max_bytes_per_snapshot_row).toBe(32 * 1024 * 1024);
  const fresh = new RawSyncClient(standard.baseUrl, standard.tokenFor('bo'), 'device-b');
  const snap = await fresh.createSnapshot();
  expect(snap.status).toBe(200);
  const chunk = await fresh.snapshotChunk(snap.body.snapshot_id);
  expect(chunk.status).toBe(200);
  expect(Buffer.from(chunk.body.rows[0].payload.data, 'base64').length).toBe(5 * 1024 * 1024);
});
