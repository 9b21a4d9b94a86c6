// A one-request push checks and applies its rows as they came (one JSON parameter per statement)
// and stages nothing: no push session, staged row or segment is written. Bundles of several
// segments (tables, inserts, updates, deletes) commit exactly as the three-request path commits
// them (same bundle hashes, committed rows and business rows); the quota counts the user's other
// open sessions, not one left open under the same (source, source_bundle_id), which the commit
// deletes. A segment's statement text does not depend on where it sits in the bundle (one
// prepared statement, not one per position).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushRow, WirePayload } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { recordingSessionStatements } from '../harness/session-statements.ts';

const statements: string[] = [];
const traced = recordingSessionStatements(statements);

let one: StartedSyncServer;
let three: StartedSyncServer;
beforeAll(async () => {
  [one, three] = await Promise.all([
    startSyncServer({ purpose: 'one_request_unstaged', wrapDatabase: traced, limits: { maxOpenPushSessionsPerUser: 1 } }),
    startSyncServer({ purpose: 'one_request_unstaged_three', oneRequestPush: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([one?.close(), three?.close()]);
});

const USER = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';
const TASK = '33333333-3333-4333-8333-333333333333';
const HASH = 'e'.repeat(64);
const row = (table: string, key: Record<string, string>, op: PushRow['op'], base: number, payload?: WirePayload): PushRow => ({
  schema: 'business',
  table,
  key,
  op,
  base_row_version: base,
  ...(payload ? { payload } : {}),
});
const bundles: PushRow[][] = [
  [
    row('users', { id: USER }, 'INSERT', 0, { id: USER, name: 'Ada', email: null, created_at: '2026-03-24T18:42:11Z' }),
    row('projects', { id: PROJECT }, 'INSERT', 0, { id: PROJECT, owner_id: USER, title: 'P', budget: '12.50', archived: false }),
    row('tags', { name: 'red' }, 'INSERT', 0, { name: 'red', color: '#f00', weight: '1', meta: { a: [1, 2] } }),
    row('tags', { name: 'blue' }, 'INSERT', 0, { name: 'blue', color: null, weight: null, meta: null }),
  ],
  [
    row('users', { id: USER }, 'UPDATE', 1, { id: USER, name: 'Ada 2', email: 'a@example.com', created_at: '2026-03-24T18:42:11Z' }),
    row('tags', { name: 'red' }, 'DELETE', 1),
    row('tags', { name: 'blue' }, 'DELETE', 1),
    row('projects', { id: PROJECT }, 'UPDATE', 1, { id: PROJECT, owner_id: USER, title: 'P 2', budget: '99.99', archived: true }),
    row('tasks', { id: TASK }, 'INSERT', 0, {
      id: TASK,
      project_id: PROJECT,
      title: 'T',
      done: false,
      priority: '9007199254740993',
      estimate_hours: '1.5',
      attachment: 'AAEC',
      due_at: null,
    }),
    row('tags', { name: 'green' }, 'INSERT', 0, { name: 'green', color: '#0f0', weight: '3', meta: [] }),
  ],
];

it('commits bundles of several segments as the three-request path does, staging nothing', async () => {
  const a1 = new RawSyncClient(one.baseUrl, one.tokenFor('alice'), 'device-a');
  const a3 = new RawSyncClient(three.baseUrl, three.tokenFor('alice'), 'device-a');
  await a1.connect(false);
  await a3.connect(false);
  for (const [i, rows] of bundles.entries()) {
    statements.length = 0;
    const viaOne = await a1.pushInOneRequest(i + 1, rows, { canonical_request_hash: HASH });
    expect(viaOne.body).toMatchObject({ row_count: rows.length });
    expect(statements.filter((s) => /(INSERT INTO|UPDATE) sync\.push_session/.test(s))).toEqual([]);
    const viaThree = await a3.push(i + 1, rows, 2, { canonical_request_hash: HASH });
    expect(viaThree.status).toBe(200);
    expect(viaOne.body).toEqual(viaThree.body);
    expect((await a1.committedRows(viaOne.body.bundle_seq)).body).toEqual((await a3.committedRows(viaThree.body.bundle_seq)).body);
  }
  const business = (h: StartedSyncServer) =>
    h.database.query(
      `SELECT (SELECT json_agg(u ORDER BY id) FROM business.users u) AS users, (SELECT json_agg(p ORDER BY id) FROM business.projects p) AS projects,
              (SELECT json_agg(t ORDER BY id) FROM business.tasks t) AS tasks, (SELECT json_agg(g ORDER BY name) FROM business.tags g) AS tags`,
    );
  expect((await business(one)).rows).toEqual((await business(three)).rows);
  const left = await one.database.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM sync.push_sessions) + (SELECT count(*) FROM sync.push_session_rows) + (SELECT count(*) FROM sync.push_session_segments) AS n`,
  );
  expect(Number(left.rows[0]!.n)).toBe(0);
});

it("counts the user's other open sessions for the quota, not the one it replaces", async () => {
  const b = new RawSyncClient(one.baseUrl, one.tokenFor('bob'), 'bob-a');
  const other = b.withSource('bob-b');
  await b.connect(false);
  await other.connect(false);
  const tag = (name: string) => [row('tags', { name }, 'INSERT', 0, { name, color: null, weight: null, meta: null })];
  // bob-a left its bundle 1 staging (limit: one open session per user): its one-request push of
  // the same bundle replaces it.
  expect((await b.createPush(1, 1, { canonical_request_hash: HASH })).status).toBe(200);
  const replaced = await b.pushInOneRequest(1, tag('one'), { canonical_request_hash: HASH });
  expect(replaced.status).toBe(200);
  // Another source's open session fills the user's one slot.
  const open = await other.createPush(1, 1, { canonical_request_hash: HASH });
  expect(open.status).toBe(200);
  const refused = await b.pushInOneRequest(2, tag('two'), { canonical_request_hash: HASH });
  expect(refused.status).toBe(429);
  expect(refused.body.error).toBe('push_session_capacity');
  expect((await other.deletePush(open.body.push_id)).status).toBe(204);
  expect((await b.pushInOneRequest(2, tag('two'), { canonical_request_hash: HASH })).status).toBe(200);
});

it('applies a segment with the same statement text wherever it sits in the bundle (one prepared statement)', async () => {
  const c = new RawSyncClient(one.baseUrl, one.tokenFor('cleo'), 'cleo-a');
  await c.connect(false);
  const tag = (name: string) => row('tags', { name }, 'INSERT', 0, { name, color: null, weight: null, meta: null });
  const [FOURTH, FIFTH] = ['44444444-4444-4444-8444-444444444444', '55555555-5555-4555-8555-555555555555'];
  const u = (id: string) => row('users', { id }, 'INSERT', 0, { id, name: 'U', email: null, created_at: '2026-03-24T18:42:11Z' });
  statements.length = 0;
  // A tags segment (never the first: that one also checks conflicts) at rows 1, 2, then 1 and 3.
  expect((await c.pushInOneRequest(1, [u(USER), tag('a')], { canonical_request_hash: HASH })).status).toBe(200);
  expect((await c.pushInOneRequest(2, [u(PROJECT), u(FOURTH), tag('b')], { canonical_request_hash: HASH })).status).toBe(200);
  expect((await c.pushInOneRequest(3, [u(TASK), tag('c'), u(FIFTH), tag('d')], { canonical_request_hash: HASH })).status).toBe(200);
  const tagInserts = statements.filter((s) => s.includes('INSERT INTO "business"."tags"'));
  expect(tagInserts.length).toBe(4);
  expect(new Set(tagInserts).size).toBe(1);
});
