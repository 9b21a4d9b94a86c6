/**
 * Changes the self-heal set aside (`_sync_held_changes`) go back to the dirty set when the engine
 * opens again. `dirty_ordinal` is the rowid of `_sync_dirty_rows` (layout 3), and app writes
 * made meanwhile were captured from ordinal 1 again: the held changes go back with ordinals below
 * theirs, in their order, and none is dropped; a key the app wrote since keeps the app's row.
 */
import { expect, it } from 'vitest';
import type { SyncEngine } from '../../worker/engine/index.ts';
import type { EngineContext } from '../../worker/engine/context.ts';
import { holdPendingChanges } from '../../worker/engine/self-heal.ts';
import { openEngine } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const ctxOf = (engine: SyncEngine): EngineContext => (engine as unknown as { ctx: EngineContext }).ctx;

it('restores held changes ahead of the writes made while they were held', async () => {
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [{ table: 'users', syncKey: 'id' }]);
  s.db.exec("INSERT INTO users VALUES ('u1', 'A'), ('u2', 'B'), ('u3', 'C')");
  holdPendingChanges(ctxOf(s.engine));
  expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')).toBe(0);
  // Captured while the changes are held (the process then stops before they are released).
  s.db.exec("INSERT INTO users VALUES ('u4', 'D'); DELETE FROM users WHERE id = 'u2'");
  await s.engine.close();

  const again = await s.reopen();
  try {
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_held_changes')).toBe(0);
    expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
      { key_json: '{"id":"u1"}', op: 'INSERT' },
      { key_json: '{"id":"u3"}', op: 'INSERT' },
      { key_json: '{"id":"u4"}', op: 'INSERT' },
      { key_json: '{"id":"u2"}', op: 'DELETE' },
    ]);
    expect(again.status.pendingCount).toBe(4);
  } finally {
    await again.close();
  }
});
