// A one-request push that conflicts, or that the database refuses for its data, answers exactly
// what the commit endpoint of the three-request path answers for the same bundle (status, code,
// message, conflict / rejection detail; an unexpected failure as the commit endpoint's 500),
// commits nothing and leaves no staging session. Two
// servers with the same history: one pushes in one request, the other create → chunk → commit.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let one: StartedSyncServer;
const internalErrors: string[] = [];
let three: StartedSyncServer;
const USER = '11111111-1111-4111-8111-111111111111';
const GHOST = '99999999-9999-4999-8999-999999999999';
const PROJECT = '22222222-2222-4222-8222-222222222222';
const HASH = 'd'.repeat(64);

const user = (name: string, base: number, op: 'INSERT' | 'UPDATE' = 'INSERT'): PushRow => ({
  schema: 'business',
  table: 'users',
  key: { id: USER },
  op,
  base_row_version: base,
  payload: { id: USER, name, email: null, created_at: '2026-03-24T18:42:11Z' },
});

beforeAll(async () => {
  [one, three] = await Promise.all([
    startSyncServer({ purpose: 'one_request_conflict', onInternalError: (_err, where) => internalErrors.push(where) }),
    startSyncServer({
      purpose: 'three_request_conflict',
      oneRequestPush: false,
      onInternalError: (_err, where) => internalErrors.push(where),
    }),
  ]);
  // The same history on both: device-a inserts the user and updates it (row_version 2).
  for (const h of [one, three]) {
    // A trigger failing with an internal error (not a refusal of the data): the server's problem.
    await h.database.query(`CREATE FUNCTION business.fail_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.name = 'boom' THEN RAISE EXCEPTION 'boom' USING ERRCODE = 'XX000'; END IF; RETURN NEW; END $$`);
    await h.database.query(`CREATE TRIGGER fail_boom BEFORE INSERT ON business.users FOR EACH ROW EXECUTE FUNCTION business.fail_boom()`);
    const a = new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'device-a');
    expect((await a.connect(false)).status).toBe(200);
    expect((await a.push(1, [user('Ada', 0)], 1000, { canonical_request_hash: HASH })).status).toBe(200);
    expect((await a.push(2, [user('Ada 2', 1, 'UPDATE')], 1000, { canonical_request_hash: HASH })).status).toBe(200);
    expect((await new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'device-b').connect(false)).status).toBe(200);
  }
});
afterAll(async () => {
  await Promise.all([one?.close(), three?.close()]);
});

async function bothWays(rows: PushRow[]) {
  const b1 = new RawSyncClient(one.baseUrl, one.tokenFor('alice'), 'device-b');
  const b3 = new RawSyncClient(three.baseUrl, three.tokenFor('alice'), 'device-b');
  const viaOne = await b1.pushInOneRequest(1, rows, { canonical_request_hash: HASH });
  const viaThree = await b3.push(1, rows, 1, { canonical_request_hash: HASH });
  return { viaOne, viaThree };
}

async function nothingLeft(): Promise<void> {
  const r = await one.database.query<{ sessions: number; bundles: number }>(
    'SELECT (SELECT count(*)::int FROM sync.push_sessions) AS sessions, (SELECT count(*)::int FROM sync.bundle_log) AS bundles',
  );
  expect(r.rows[0]).toEqual({ sessions: 0, bundles: 2 });
}

it('a stale update: the same push_conflict answer, with the server row', async () => {
  const { viaOne, viaThree } = await bothWays([user('stale edit', 1, 'UPDATE')]);
  expect(viaThree.status).toBe(409);
  expect(viaThree.body.error).toBe('push_conflict');
  expect(viaThree.body.conflict.server_row.name).toBe('Ada 2');
  expect({ status: viaOne.status, body: viaOne.body }).toEqual({ status: viaThree.status, body: viaThree.body });
  await nothingLeft();
});

it('an insert over an existing key (base 0, deferred check): the same push_conflict answer', async () => {
  const { viaOne, viaThree } = await bothWays([user('again', 0)]);
  expect(viaThree.body.error).toBe('push_conflict');
  expect({ status: viaOne.status, body: viaOne.body }).toEqual({ status: viaThree.status, body: viaThree.body });
  await nothingLeft();
});

it('a row the database refuses (missing reference): the same push_commit_invalid rejection', async () => {
  const orphan: PushRow = {
    schema: 'business',
    table: 'projects',
    key: { id: PROJECT },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id: PROJECT, owner_id: GHOST, title: 'P', budget: '1', archived: false },
  };
  const { viaOne, viaThree } = await bothWays([orphan]);
  expect(viaThree.status).toBe(400);
  expect(viaThree.body).toMatchObject({ error: 'push_commit_invalid', rejection: { reason: 'missing_reference', table: 'projects' } });
  expect({ status: viaOne.status, body: viaOne.body }).toEqual({ status: viaThree.status, body: viaThree.body });
  await nothingLeft();
});

it("an unexpected failure of the apply: the commit endpoint's 500 push_session_commit_failed", async () => {
  const boom: PushRow = {
    schema: 'business',
    table: 'users',
    key: { id: GHOST },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id: GHOST, name: 'boom', email: null, created_at: '2026-03-24T18:42:11Z' },
  };
  internalErrors.length = 0;
  const { viaOne, viaThree } = await bothWays([boom]);
  expect({ status: viaThree.status, body: viaThree.body }).toEqual({
    status: 500,
    body: { error: 'push_session_commit_failed', message: 'pushCommit failed on the server' },
  });
  expect({ status: viaOne.status, body: viaOne.body }).toEqual({ status: viaThree.status, body: viaThree.body });
  expect(internalErrors).toHaveLength(2);
  await nothingLeft();
});
