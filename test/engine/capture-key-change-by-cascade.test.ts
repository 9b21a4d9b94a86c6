/**
 * A sync key can change without the app naming it in an UPDATE: a key that is also a foreign key
 * with ON UPDATE CASCADE is rewritten by SQLite when the parent's key changes. Capture must still
 * record a delete of the old key and an insert of the new one, in the same order as when one
 * update trigger handled every update. (The key-change trigger is `AFTER UPDATE OF <key>`;
 * SQLite runs a cascade as an UPDATE that sets the column, so it fires.)
 */
import { expect, it } from 'vitest';
import { openEngine } from './support/engine.ts';
import { rows } from './support/sqlite.ts';
import { dirtyRowsSql } from './support/pending-changes.ts';

const SCHEMA = `
CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
CREATE TABLE profiles (user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON UPDATE CASCADE, bio TEXT NOT NULL);`;

it('captures a cascaded key change as delete of the old key then insert of the new one', async () => {
  const s = await openEngine(SCHEMA, [
    { table: 'users', syncKey: 'id' },
    { table: 'profiles', syncKey: 'user_id' },
  ]);
  s.db.exec("INSERT INTO users VALUES ('u1', 'U'); INSERT INTO profiles VALUES ('u1', 'hi')");
  s.db.exec('DELETE FROM _sync_dirty_rows');

  s.db.exec("UPDATE users SET id = 'u2' WHERE id = 'u1'");

  // The cascade runs inside the parent's update, before the parent's AFTER trigger.
  expect(rows(s.db, dirtyRowsSql(s.db, s.options.tables, 'd.table_name, d.key_json, d.op'))).toEqual([
    { table_name: 'profiles', key_json: '{"user_id":"u1"}', op: 'DELETE', payload: null },
    { table_name: 'profiles', key_json: '{"user_id":"u2"}', op: 'INSERT', payload: '{"user_id":"u2","bio":"hi"}' },
    { table_name: 'users', key_json: '{"id":"u1"}', op: 'DELETE', payload: null },
    { table_name: 'users', key_json: '{"id":"u2"}', op: 'INSERT', payload: '{"id":"u2","name":"U"}' },
  ]);
});
