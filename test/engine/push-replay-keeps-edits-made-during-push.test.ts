/**
 * Rows the app edits or deletes while a push is in flight keep the local edit: replay records the
 * committed version in row_state and rebases the newer dirty row on it, so the next push sends
 * the edit as an UPDATE/DELETE on top of our own commit (no conflict, nothing lost).
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows, scalar } from './support/sqlite.ts';

it('keeps an update and a delete made between freeze and replay', async () => {
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [{ table: 'users', syncKey: 'id' }]);
  await attachStartedEmpty(s);
  const server = new PushResponder();
  server.install(s.server);
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada'), ('u2', 'Bob')");
  // The app writes while the chunk is on the wire (after the freeze, before the replay).
  server.hooks.chunk = () => s.db.exec("UPDATE users SET name = 'Ada (edited)' WHERE id = 'u1'; DELETE FROM users WHERE id = 'u2'");
  const first = await s.engine.pushPending();
  expect(first.outcome).toBe('committed');
  expect(scalar(s.db, "SELECT name FROM users WHERE id = 'u1'")).toBe('Ada (edited)');
  expect(scalar(s.db, "SELECT COUNT(*) FROM users WHERE id = 'u2'")).toBe(0);
  expect(rows(s.db, 'SELECT key_json, op, base_row_version FROM _sync_dirty_rows ORDER BY key_json')).toEqual([
    { key_json: '{"id":"u1"}', op: 'UPDATE', base_row_version: 1 },
    { key_json: '{"id":"u2"}', op: 'DELETE', base_row_version: 1 },
  ]);
  const second = await s.engine.pushPending();
  expect(second.outcome).toBe('committed');
  const sent = server.committed[1]!.rows.map((r) => [r.key.id, r.op, r.payload?.name ?? null]);
  expect(sent).toEqual([
    ['u1', 'UPDATE', 'Ada (edited)'],
    ['u2', 'DELETE', null],
  ]);
  expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')).toBe(0);
});
