// A one-request push is refused before any database work, with a typed error, when it does not
// fit what the server advertises or is malformed: more rows than max_rows_per_push_chunk
// (`push_chunk_invalid`, as a chunk), rows that are not all the planned rows, rows without
// `commit: true`, no canonical_request_hash (`push_session_invalid`). A server forced to the
// go-json-numbers dialect does not offer the extension. Nothing is committed or left staged.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { sampleUserInsert } from '../harness/sample-schema.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
const HASH = 'f'.repeat(64);
const userRow = (n: number): PushRow => sampleUserInsert(`11111111-1111-4111-8111-${String(n).padStart(12, '0')}`, `u${n}`);

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'one_request_limits', limits: { maxRowsPerPushChunk: 3, defaultRowsPerPushChunk: 3 } });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'device-a');
  await dev.connect(false);
});
afterAll(() => h?.close());

async function nothingWritten(): Promise<void> {
  const r = await h.database.query<{ sessions: number; bundles: number }>(
    'SELECT (SELECT count(*)::int FROM sync.push_sessions) AS sessions, (SELECT count(*)::int FROM sync.bundle_log) AS bundles',
  );
  expect(r.rows[0]).toEqual({ sessions: 0, bundles: 0 });
}

it('advertises max_rows = max_rows_per_push_chunk and refuses a request above it as a chunk would', async () => {
  expect((await dev.capabilities()).body.oversqlite_extensions.one_request_push.max_rows).toBe(3);
  const r = await dev.pushInOneRequest(1, [1, 2, 3, 4].map(userRow), { canonical_request_hash: HASH });
  expect(r.status).toBe(400);
  expect(r.body).toMatchObject({ error: 'push_chunk_invalid', message: expect.stringMatching(/4 rows; max_rows_per_push_chunk is 3/) });
  await nothingWritten();
});

it('refuses malformed one-request bodies with push_session_invalid', async () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      { source_bundle_id: 1, planned_row_count: 2, canonical_request_hash: HASH, rows: [userRow(1)], commit: true },
      /planned_row_count 2, rows 1/,
    ],
    [{ source_bundle_id: 1, planned_row_count: 1, canonical_request_hash: HASH, rows: [userRow(1)] }, /require commit: true/],
    [{ source_bundle_id: 1, planned_row_count: 1, canonical_request_hash: HASH, commit: true }, /requires the bundle's rows/],
    [{ source_bundle_id: 1, planned_row_count: 1, rows: [userRow(1)], commit: true }, /requires canonical_request_hash/],
  ];
  for (const [body, message] of cases) {
    const r = await dev.request('POST', '/sync/push-sessions', body);
    expect({ status: r.status, error: r.body.error }).toEqual({ status: 400, error: 'push_session_invalid' });
    expect(r.body.message).toMatch(message);
  }
  await nothingWritten();
});

it('a request body above the server limit is refused before it is read whole', async () => {
  const small = await startSyncServer({ purpose: 'one_request_body_limit', limits: { maxRequestBodyBytes: 2048 } });
  try {
    const d = new RawSyncClient(small.baseUrl, small.tokenFor('alice'), 'device-a');
    await d.connect(false);
    expect((await d.capabilities()).body.oversqlite_extensions.one_request_push.max_request_bytes).toBe(2048);
    const big = { ...userRow(1), payload: { ...userRow(1).payload, name: 'x'.repeat(4000) } };
    const r = await d.pushInOneRequest(1, [big], { canonical_request_hash: HASH });
    expect({ status: r.status, error: r.body.error }).toMatchObject({ error: 'push_session_invalid' });
  } finally {
    await small.close();
  }
});

it('a server forced to the go-json-numbers dialect neither advertises nor accepts it', async () => {
  const go = await startSyncServer({ purpose: 'one_request_numbers', wireDialect: 'go-json-numbers' });
  try {
    const d = new RawSyncClient(go.baseUrl, go.tokenFor('alice'), 'device-a');
    expect('oversqlite_extensions' in (await d.capabilities()).body).toBe(false);
    await d.connect(false);
    const r = await d.pushInOneRequest(1, [userRow(1)], { canonical_request_hash: HASH });
    expect({ status: r.status, error: r.body.error }).toEqual({ status: 400, error: 'push_session_invalid' });
  } finally {
    await go.close();
  }
});
