/**
 * Apps may harden their connection with `PRAGMA trusted_schema = OFF`; SQLite then refuses
 * functions in triggers unless they are innocuous. Capture must keep working.
 */
import { expect, it } from 'vitest';
import { openEngine } from './support/engine.ts';
import { rows } from './support/sqlite.ts';
import { dirtyRowsSql } from './support/pending-changes.ts';

it('captures writes with trusted_schema = OFF', async () => {
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [{ table: 'users', syncKey: 'id' }]);
  s.db.exec('PRAGMA trusted_schema = OFF');
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada'); UPDATE users SET name = 'Ada L' WHERE id = 'u1'");
  expect(rows(s.db, dirtyRowsSql(s.db, s.options.tables, 'd.key_json, d.op'))).toEqual([
    { key_json: '{"id":"u1"}', op: 'INSERT', payload: '{"id":"u1","name":"Ada L"}' },
  ]);
});

it('captures a row removed by REPLACE through a unique value with trusted_schema = OFF', async () => {
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL UNIQUE)', [
    { table: 'users', syncKey: 'id' },
  ]);
  s.db.exec('PRAGMA trusted_schema = OFF');
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada'); INSERT OR REPLACE INTO users VALUES ('u2', 'Ada')");
  expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
    { key_json: '{"id":"u1"}', op: 'DELETE' },
    { key_json: '{"id":"u2"}', op: 'INSERT' },
  ]);
});
