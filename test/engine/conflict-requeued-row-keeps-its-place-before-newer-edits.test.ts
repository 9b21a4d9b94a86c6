/**
 * A conflict resolved `keep: 'local'` gives the bundle back and requeues the conflicting row in
 * its own place among the frozen rows, all below the edits the app made while the resolver ran
 * (capture takes new ordinals above every stored one). No two pending rows share an ordinal, and
 * the retried bundle keeps capture order: the requeued row between its frozen neighbours, the
 * app's newer insert last.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows } from './support/sqlite.ts';

it('requeues the conflicting row between its frozen neighbours, before edits made during the resolver', async () => {
  let dirtyAfterResolution: Record<string, unknown>[] = [];
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [{ table: 'users', syncKey: 'id' }], {
    conflicts: async () => {
      // The app writes while the (async) resolver is deciding.
      s.db.exec("INSERT INTO users VALUES ('u4', 'D')");
      await Promise.resolve();
      return { keep: 'local' };
    },
  });
  await attachStartedEmpty(s);
  const server = new PushResponder();
  server.install(s.server);
  s.db.exec("INSERT INTO users VALUES ('u1', 'A'), ('u2', 'B'), ('u3', 'C')");
  await s.engine.pushPending();
  // Another device moved u2 on the server.
  server.nextSeq = 6;
  server.versions.set('users:{"id":"u2"}', { version: 5, deleted: false, payload: { id: 'u2', name: 'server' } });
  s.db.exec("UPDATE users SET name = name || '!'");
  s.engine.subscribe((event) => {
    if (event.type !== 'conflict') return;
    dirtyAfterResolution = rows(s.db, 'SELECT key_json, op, base_row_version, dirty_ordinal FROM _sync_dirty_rows ORDER BY dirty_ordinal');
  });

  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', conflicts: 1 });
  expect(dirtyAfterResolution.map((r) => [r.key_json, r.op, r.base_row_version])).toEqual([
    ['{"id":"u1"}', 'UPDATE', 1],
    ['{"id":"u2"}', 'UPDATE', 5],
    ['{"id":"u3"}', 'UPDATE', 1],
    ['{"id":"u4"}', 'INSERT', 0],
  ]);
  expect(new Set(dirtyAfterResolution.map((r) => r.dirty_ordinal)).size).toBe(4);
  expect(server.committed.at(-1)!.rows.map((r) => [r.key.id, r.op, r.payload?.name])).toEqual([
    ['u1', 'UPDATE', 'A!'],
    ['u2', 'UPDATE', 'B!'],
    ['u3', 'UPDATE', 'C!'],
    ['u4', 'INSERT', 'D'],
  ]);
});
