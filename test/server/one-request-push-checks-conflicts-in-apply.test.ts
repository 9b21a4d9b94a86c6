// A small one-request push looks for conflicts in its first apply statement and applies nothing
// when a row conflicts (not even a row that would fail on its own), then finalizes in one
// statement (no stage-shape read, no savepoint; deferred foreign keys checked by COMMIT). Its
// answers are the three-request path's: a conflict in a later segment, an insert over a live key
// whose row a trigger would refuse, an insert over a tombstone (conflict at base 0, committed at
// the tombstone's version).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushRow, WirePayload } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { recordingSessionStatements } from '../harness/session-statements.ts';

const statements: string[] = [];
const traced = recordingSessionStatements(statements);

const USER = '11111111-1111-4111-8111-111111111111';
const HASH = 'f'.repeat(64);
const row = (table: string, key: Record<string, string>, op: PushRow['op'], base: number, payload?: WirePayload): PushRow => ({
  schema: 'business',
  table,
  key,
  op,
  base_row_version: base,
  ...(payload ? { payload } : {}),
});
const user = (name: string, op: PushRow['op'], base: number) =>
  row('users', { id: USER }, op, base, { id: USER, name, email: null, created_at: '2026-03-24T18:42:11Z' });
const tag = (name: string, op: PushRow['op'], base: number, color: string | null = null) =>
  row('tags', { name }, op, base, op === 'DELETE' ? undefined : { name, color, weight: null, meta: null });

let one: StartedSyncServer;
let three: StartedSyncServer;
let sbid = 1;
beforeAll(async () => {
  [one, three] = await Promise.all([
    startSyncServer({ purpose: 'one_request_check_in_apply', wrapDatabase: traced }),
    startSyncServer({ purpose: 'one_request_check_in_apply_three', oneRequestPush: false }),
  ]);
  for (const h of [one, three]) {
    // A trigger refusing a row named 'boom' with an internal error.
    await h.database.query(`CREATE FUNCTION business.fail_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.name = 'boom' THEN RAISE EXCEPTION 'boom' USING ERRCODE = 'XX000'; END IF; RETURN NEW; END $$`);
    await h.database.query(`CREATE TRIGGER fail_boom BEFORE INSERT ON business.users FOR EACH ROW EXECUTE FUNCTION business.fail_boom()`);
  }
  // The same history on both: the user (version 1), tags red (1) and gone (deleted at 2).
  await bothWays([user('Ada', 'INSERT', 0), tag('red', 'INSERT', 0), tag('gone', 'INSERT', 0)]);
  await bothWays([tag('gone', 'DELETE', 1)]);
});
afterAll(async () => {
  await Promise.all([one?.close(), three?.close()]);
});

async function bothWays(rows: PushRow[]) {
  const a1 = new RawSyncClient(one.baseUrl, one.tokenFor('alice'), 'device-a');
  const a3 = new RawSyncClient(three.baseUrl, three.tokenFor('alice'), 'device-a');
  if (sbid === 1) {
    await a1.connect(false);
    await a3.connect(false);
  }
  statements.length = 0;
  const viaOne = await a1.pushInOneRequest(sbid, rows, { canonical_request_hash: HASH });
  const viaThree = await a3.push(sbid, rows, 1000, { canonical_request_hash: HASH });
  expect({ status: viaOne.status, body: viaOne.body }).toEqual({ status: viaThree.status, body: viaThree.body });
  if (viaOne.status === 200) sbid++;
  return viaOne;
}

async function businessRows(h: StartedSyncServer) {
  return (
    await h.database.query(
      `SELECT (SELECT json_agg(u.name ORDER BY id) FROM business.users u) AS users, (SELECT json_agg(g.name ORDER BY name) FROM business.tags g) AS tags`,
    )
  ).rows[0];
}

it('a small push runs no separate conflict check, stage-shape read or constraint check', async () => {
  const r = await bothWays([tag('blue', 'INSERT', 0), user('Ada 2', 'UPDATE', 1)]);
  expect(r.status).toBe(200);
  expect(statements.filter((s) => /SAVEPOINT oversync_finalize|SET CONSTRAINTS ALL IMMEDIATE|^\s*SELECT r\.table_id/.test(s))).toEqual([]);
  expect(await businessRows(one)).toEqual(await businessRows(three));
});

it('a conflict in a later segment: push_conflict, and no segment applied', async () => {
  const before = await businessRows(one);
  const r = await bothWays([tag('green', 'INSERT', 0), user('stale', 'UPDATE', 1)]);
  expect(r.status).toBe(409);
  expect(r.body.conflict).toMatchObject({ table: 'users', base_row_version: 1, server_row_version: 3 });
  expect(await businessRows(one)).toEqual(before);
});

it('an insert over a live key whose row a trigger refuses: push_conflict, the row never reaches the trigger', async () => {
  const r = await bothWays([user('boom', 'INSERT', 0)]);
  expect(r.status).toBe(409);
  expect(r.body.error).toBe('push_conflict');
});

it('an insert over a tombstone: a conflict at base 0, committed at the tombstone version', async () => {
  const stale = await bothWays([tag('gone', 'INSERT', 0, 'grey')]);
  expect(stale.status).toBe(409);
  expect(stale.body.conflict).toMatchObject({ server_row_deleted: true, server_row_version: 2 });
  const again = await bothWays([tag('gone', 'INSERT', 2, 'grey')]);
  expect(again.status).toBe(200);
  expect(await businessRows(one)).toEqual(await businessRows(three));
  const versions = await one.database.query<{ deleted: boolean }>(`SELECT deleted FROM sync.row_state WHERE key_text = 'gone'`);
  expect(versions.rows).toEqual([{ deleted: false }]);
});
