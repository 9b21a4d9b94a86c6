/**
 * A pulled run of many upserts is written with the connection's triggers switched off when every
 * trigger of the main schema is a capture trigger (`withoutCaptureTriggers`): nothing observable
 * may change. Pulled rows are never captured, the app's next write is (after a successful and a
 * rolled-back apply), an app trigger on a synced table still fires for every pulled row, and so
 * does a TEMP trigger.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = `
CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
CREATE TABLE posts (id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED, title TEXT NOT NULL);`;
const TABLES = [
  { table: 'users', syncKey: 'id' },
  { table: 'posts', syncKey: 'id' },
];
/** Above the run length that switches triggers off (1,000). */
const N = 1500;

function servePull(s: EngineSetup, seq: number, table: 'users' | 'posts', count: number, parent = 'nobody'): void {
  const rowsOf = Array.from({ length: count }, (_, i) => {
    const id = `${table}-${seq}-${i}`;
    const payload = table === 'users' ? { id, name: `n${i}` } : { id, user_id: parent, title: `t${i}` };
    return { schema: 'main', table, key: { id }, op: 'INSERT', row_version: seq, payload };
  });
  s.server.on('GET', '/sync/pull', {
    status: 200,
    body: {
      stable_bundle_seq: seq,
      has_more: false,
      bundles: [{ bundle_seq: seq, source_id: 'x', source_bundle_id: seq, rows: rowsOf }],
    },
  });
}

it('captures no pulled row and the next local writes, after a successful and a rolled-back large apply', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  servePull(s, 1, 'users', N);
  await s.engine.pullToStable();
  expect(scalar(s.db, 'SELECT count(*) FROM users')).toBe(N);
  expect(scalar(s.db, 'SELECT count(*) FROM _sync_dirty_rows')).toBe(0);
  expect(scalar(s.db, 'SELECT count(*) FROM _sync_row_state')).toBe(N);
  s.db.exec("INSERT INTO users VALUES ('local-1', 'L1')");
  expect(rows(s.db, 'SELECT key_json FROM _sync_dirty_rows')).toEqual([{ key_json: '{"id":"local-1"}' }]);

  // Posts under a parent that exists nowhere: the deferred FK fails the COMMIT, all rolled back.
  servePull(s, 2, 'posts', N);
  await expect(s.engine.pullToStable()).rejects.toMatchObject({ code: 'apply_failed' });
  expect(scalar(s.db, 'SELECT count(*) FROM posts')).toBe(0);
  s.db.exec("INSERT INTO users VALUES ('local-2', 'L2')");
  s.db.exec("UPDATE users SET name = 'changed' WHERE id = 'users-1-7'");
  expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
    { key_json: '{"id":"local-1"}', op: 'INSERT' },
    { key_json: '{"id":"local-2"}', op: 'INSERT' },
    { key_json: '{"id":"users-1-7"}', op: 'UPDATE' },
  ]);
});

it("fires the app's own triggers, and TEMP triggers, for every row of a large pulled run", async () => {
  const s = await openEngine(
    `${SCHEMA}
CREATE TABLE audit (what TEXT NOT NULL);
CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES ('main ' || NEW.id); END;`,
    TABLES,
  );
  await attachStartedEmpty(s);
  servePull(s, 1, 'users', N);
  await s.engine.pullToStable();
  expect(scalar(s.db, "SELECT count(*) FROM audit WHERE what LIKE 'main users-1-%'")).toBe(N);

  // Only capture triggers in the main schema now: the TEMP one must fire all the same.
  s.db.exec('DROP TRIGGER users_audit');
  s.db.exec("CREATE TEMP TRIGGER posts_audit AFTER INSERT ON main.posts BEGIN INSERT INTO audit VALUES ('temp ' || NEW.id); END");
  servePull(s, 2, 'posts', N, 'users-1-0');
  await s.engine.pullToStable();
  expect(scalar(s.db, 'SELECT count(*) FROM posts')).toBe(N);
  expect(scalar(s.db, "SELECT count(*) FROM audit WHERE what LIKE 'temp posts-2-%'")).toBe(N);
  expect(scalar(s.db, 'SELECT count(*) FROM _sync_dirty_rows')).toBe(0);
});
