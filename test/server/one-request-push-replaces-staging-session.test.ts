// A one-request push of a bundle whose three-request session is still staging (a client that fell
// back, or switched paths, and re-sent): the staging session is replaced, exactly as a re-sent
// create replaces it: the one-request push stages nothing and deletes the old session in the
// statement logging the bundle. The bundle commits once and no session is left behind; the old
// session's commit answers 404.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { sampleUserInsert } from '../harness/sample-schema.ts';

let h: StartedSyncServer;
const HASH = 'd'.repeat(64);

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'one_request_push_replaces' });
});
afterAll(async () => {
  await h?.close();
});

it('replaces a staging session of the same bundle and commits it once', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'device-a');
  expect((await dev.connect(false)).body).toEqual({ resolution: 'initialize_empty' });
  const rows = [
    sampleUserInsert('31111111-1111-4111-8111-111111111111', 'Ada'),
    sampleUserInsert('32222222-2222-4222-8222-222222222222', 'Bo'),
  ];

  const staging = await dev.createPush(1, rows.length, { canonical_request_hash: HASH });
  expect(staging.body.status).toBe('staging');
  expect((await dev.chunk(staging.body.push_id, 0, rows.slice(0, 1))).status).toBe(200);

  const r = await dev.pushInOneRequest(1, rows, { canonical_request_hash: HASH });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ bundle_seq: 1, source_bundle_id: 1, row_count: 2, canonical_request_hash: HASH });

  const left = await h.database.query<{ sessions: number; rows: number; segments: number }>(
    `SELECT (SELECT count(*)::int FROM sync.push_sessions) AS sessions, (SELECT count(*)::int FROM sync.push_session_rows) AS rows,
            (SELECT count(*)::int FROM sync.push_session_segments) AS segments`,
  );
  expect(left.rows[0]).toEqual({ sessions: 0, rows: 0, segments: 0 });
  const old = await dev.commit(staging.body.push_id);
  expect(old.status).toBe(404);
  expect(old.body.error).toBe('push_session_not_found');

  // Re-sent once more (its answer was lost): already committed, nothing new.
  const again = await dev.pushInOneRequest(1, rows, { canonical_request_hash: HASH });
  expect(again.body).toMatchObject({ status: 'already_committed', bundle_seq: 1, source_bundle_id: 1 });
  const log = await h.database.query<{ n: number }>('SELECT count(*)::int AS n FROM sync.bundle_log');
  expect(log.rows[0]!.n).toBe(1);
});
