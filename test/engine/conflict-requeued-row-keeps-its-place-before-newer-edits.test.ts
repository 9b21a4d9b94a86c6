/**
 * A conflict resolved `delete: true` of a row an app trigger watches (the delete may then touch
 * other rows, so it is not applied to the frozen bundle in place) gives the bundle back and requeues the conflicting row in its own place
 * among the frozen rows, all below the edits the app made while the resolver ran (capture takes
 * new ordinals above every stored one). No two pending rows share an ordinal, and the retried
 * bundle keeps capture order: the requeued row between its frozen neighbours, the app's newer
 * insert after them. Resolved `keep: 'local'`, the row is revised in the frozen bundle itself,
 * which is sent again as it was: the app's newer insert waits for the next push.
 */
import { expect, it } from 'vitest';
import type { ConflictResolution } from '../../worker/engine/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows } from './support/sqlite.ts';

async function scenario(resolution: ConflictResolution) {
  let dirtyAfterResolution: Record<string, unknown>[] = [];
  const schema =
    'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL); ' +
    'CREATE TABLE audit (what TEXT NOT NULL); ' +
    "CREATE TRIGGER users_deleted AFTER DELETE ON users BEGIN INSERT INTO audit VALUES ('deleted ' || OLD.id); END";
  const s = await openEngine(schema, [{ table: 'users', syncKey: 'id' }], {
    conflicts: async () => {
      // The app writes while the (async) resolver is deciding.
      s.db.exec("INSERT INTO users VALUES ('u4', 'D')");
      await Promise.resolve();
      return resolution;
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
  return { s, server, dirtyAfterResolution };
}

it('requeues the conflicting row between its frozen neighbours, before edits made during the resolver', async () => {
  const { server, dirtyAfterResolution } = await scenario({ delete: true });
  expect(dirtyAfterResolution.map((r) => [r.key_json, r.op, r.base_row_version])).toEqual([
    ['{"id":"u1"}', 'UPDATE', 1],
    ['{"id":"u2"}', 'DELETE', 5],
    ['{"id":"u3"}', 'UPDATE', 1],
    ['{"id":"u4"}', 'INSERT', 0],
  ]);
  expect(new Set(dirtyAfterResolution.map((r) => r.dirty_ordinal)).size).toBe(4);
  expect(server.committed.at(-1)!.rows.map((r) => [r.key.id, r.op, r.payload?.name])).toEqual([
    ['u1', 'UPDATE', 'A!'],
    ['u3', 'UPDATE', 'C!'],
    ['u4', 'INSERT', 'D'],
    ['u2', 'DELETE', undefined],
  ]);
});

it('revises a row kept local in the frozen bundle, leaving edits made during the resolver for the next push', async () => {
  const { s, server, dirtyAfterResolution } = await scenario({ keep: 'local' });
  expect(dirtyAfterResolution.map((r) => [r.key_json, r.op, r.base_row_version])).toEqual([['{"id":"u4"}', 'INSERT', 0]]);
  // The retry committed, so the server took u2 on its version 5.
  expect(server.committed.at(-1)!.rows.map((r) => [r.key.id, r.op, r.payload?.name])).toEqual([
    ['u1', 'UPDATE', 'A!'],
    ['u2', 'UPDATE', 'B!'],
    ['u3', 'UPDATE', 'C!'],
  ]);
  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', conflicts: 0 });
  expect(server.committed.at(-1)!.rows.map((r) => [r.key.id, r.op, r.payload?.name])).toEqual([['u4', 'INSERT', 'D']]);
});
