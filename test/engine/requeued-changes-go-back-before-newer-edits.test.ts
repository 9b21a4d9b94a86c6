/**
 * A frozen bundle the server refuses goes back to the dirty set. `dirty_ordinal` is the rowid of
 * `_sync_dirty_rows` (layout 3), so the ordinals the frozen rows had cannot be reused: an app
 * edit captured after the freeze starts again at 1. The rows go back with ordinals below every
 * pending one, in their order, and nothing is lost; a key edited since keeps its newer row.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows } from './support/sqlite.ts';

it('gives a refused bundle back before the edits made while it was on the wire', async () => {
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [{ table: 'users', syncKey: 'id' }]);
  await attachStartedEmpty(s);
  const server = new PushResponder();
  server.install(s.server);
  s.db.exec("INSERT INTO users VALUES ('u1', 'A'), ('u2', 'B'), ('u3', 'C')");
  // After the freeze emptied the dirty set: a new row, and an edit of a frozen one.
  server.hooks.chunk = () => s.db.exec("INSERT INTO users VALUES ('u4', 'D'); UPDATE users SET name = 'B edited' WHERE id = 'u2'");
  server.override('commit', { status: 400, body: { error: 'push_commit_invalid', message: 'refused' } });
  await expect(s.engine.pushPending()).rejects.toMatchObject({ code: 'push_commit_invalid' });

  const dirty = rows(s.db, 'SELECT key_json, op, dirty_ordinal FROM _sync_dirty_rows ORDER BY dirty_ordinal');
  expect(dirty.map((r) => r.key_json)).toEqual(['{"id":"u1"}', '{"id":"u3"}', '{"id":"u4"}', '{"id":"u2"}']);
  expect(new Set(dirty.map((r) => r.dirty_ordinal)).size).toBe(4);
  expect(s.engine.status.pendingCount).toBe(4);

  // A later capture still goes last.
  s.db.exec("INSERT INTO users VALUES ('u5', 'E')");
  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 5 });
  expect(server.committed.at(-1)!.rows.map((r) => [r.key.id, r.op, r.payload?.name])).toEqual([
    ['u1', 'INSERT', 'A'],
    ['u3', 'INSERT', 'C'],
    ['u4', 'INSERT', 'D'],
    ['u2', 'INSERT', 'B edited'],
    ['u5', 'INSERT', 'E'],
  ]);
  expect(s.engine.status.pendingCount).toBe(0);
});
