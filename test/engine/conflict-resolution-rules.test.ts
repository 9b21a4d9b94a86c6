/**
 * Conflict resolution rules per (local op × server state), with a push server that checks base
 * versions like the real one: client-wins re-creates a row the server deleted (INSERT on the
 * tombstone version) and deletes a row the server changed (DELETE on the new version);
 * server-wins adopts a server deletion; sibling rows of the rejected bundle are pushed again;
 * a bundle with many stale rows resolves them all (one per round); repeated conflicts on the same
 * key are bounded and exhaustion keeps every change pending.
 */
import { describe, expect, it } from 'vitest';
import type { SyncEngineOptions } from '../../worker/engine/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows, scalar } from './support/sqlite.ts';
import { dirtyRowsSql } from './support/pending-changes.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const TABLES = [{ table: 'users', syncKey: 'id' }];

/** u1 and u2 synced at version 1; then the "server" moves u1 to `serverState` at version 5. */
async function setup(conflicts: SyncEngineOptions['conflicts'], serverState: 'deleted' | 'changed') {
  const s = await openEngine(SCHEMA, TABLES, { conflicts });
  await attachStartedEmpty(s);
  const server = new PushResponder();
  server.install(s.server);
  s.db.exec("INSERT INTO users VALUES ('u1', 'one'), ('u2', 'two')");
  await s.engine.pushPending();
  server.nextSeq = 6;
  server.versions.set('users:{"id":"u1"}', {
    version: 5,
    deleted: serverState === 'deleted',
    payload: serverState === 'deleted' ? null : { id: 'u1', name: 'server' },
  });
  return { s, server };
}

describe('conflict resolution rules', () => {
  it('client-wins: local UPDATE vs server tombstone re-creates the row', async () => {
    const { s, server } = await setup('client-wins', 'deleted');
    s.db.exec("UPDATE users SET name = 'mine' WHERE id = 'u1'; UPDATE users SET name = 'two!' WHERE id = 'u2'");
    const res = await s.engine.pushPending();
    expect(res).toMatchObject({ outcome: 'committed', conflicts: 1 });
    const last = server.committed.at(-1)!;
    expect(last.rows.map((r) => [r.key.id, r.op])).toEqual([
      ['u1', 'INSERT'],
      ['u2', 'UPDATE'],
    ]);
    expect(rows(s.db, 'SELECT id, name FROM users ORDER BY id')).toEqual([
      { id: 'u1', name: 'mine' },
      { id: 'u2', name: 'two!' },
    ]);
  });

  it('client-wins: local DELETE vs server change deletes on the new version', async () => {
    const { s, server } = await setup('client-wins', 'changed');
    s.db.exec("DELETE FROM users WHERE id = 'u1'");
    await s.engine.pushPending();
    const last = server.committed.at(-1)!;
    expect(last.rows.map((r) => [r.key.id, r.op])).toEqual([['u1', 'DELETE']]);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM users')).toBe(1);
    expect(scalar(s.db, `SELECT deleted FROM _sync_row_state WHERE key_json = '{"id":"u1"}'`)).toBe(1);
  });

  it('server-wins: local UPDATE vs server tombstone deletes locally', async () => {
    const { s } = await setup('server-wins', 'deleted');
    s.db.exec("UPDATE users SET name = 'mine' WHERE id = 'u1'");
    const res = await s.engine.pushPending();
    expect(res).toMatchObject({ outcome: 'no_change', conflicts: 1 });
    expect(rows(s.db, 'SELECT id FROM users')).toEqual([{ id: 'u2' }]);
    expect(rows(s.db, `SELECT row_version, deleted FROM _sync_row_state WHERE key_json = '{"id":"u1"}'`)).toEqual([
      { row_version: 5, deleted: 1 },
    ]);
    expect(s.engine.status.pendingCount).toBe(0);
  });

  it('resolves many stale rows in one push (the server reports one per round)', async () => {
    const s = await openEngine(SCHEMA, TABLES, { conflicts: 'client-wins', maxConflictRetries: 1 });
    await attachStartedEmpty(s);
    const server = new PushResponder();
    server.install(s.server);
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    s.db.exec(ids.map((id) => `INSERT INTO users VALUES ('${id}', 'v1')`).join(';'));
    await s.engine.pushPending();
    server.nextSeq = 20;
    ids.forEach((id, i) =>
      server.versions.set(`users:{"id":"${id}"}`, { version: 10 + i, deleted: false, payload: { id, name: 'remote' } }),
    );
    s.db.exec("UPDATE users SET name = 'mine'");
    const res = await s.engine.pushPending();
    expect(res).toMatchObject({ outcome: 'committed', conflicts: 6 });
    expect(server.committed.at(-1)!.rows.map((r) => r.payload?.name)).toEqual(ids.map(() => 'mine'));
  });

  it('bounded retries: exhaustion is typed and keeps every change pending', async () => {
    const s = await openEngine(SCHEMA, TABLES, { conflicts: 'client-wins', maxConflictRetries: 2 });
    await attachStartedEmpty(s);
    s.db.exec("INSERT INTO users VALUES ('u1', 'one'), ('u2', 'two')");
    let n = 0;
    s.server.always('POST', '/sync/push-sessions', () => ({
      status: 200,
      body: { status: 'staging', push_id: `p${++n}`, planned_row_count: 2 },
    }));
    s.server.always('POST', /\/chunks$/, (req) => ({
      status: 200,
      body: { push_id: req.path.split('/')[3], next_expected_row_ordinal: 2 },
    }));
    s.server.always('POST', /\/commit$/, () => ({
      status: 409,
      body: {
        error: 'push_conflict',
        message: 'someone keeps winning',
        conflict: {
          schema: 'main',
          table: 'users',
          key: { id: 'u1' },
          op: 'UPDATE',
          base_row_version: 0,
          server_row_version: 10 + n,
          server_row_deleted: false,
          server_row: { id: 'u1', name: 'other' },
        },
      },
    }));
    const err = await s.engine.pushPending().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'conflict_retry_exhausted' });
    // first conflict on u1 resolved, then 2 repeat retries allowed, the 4th conflict exhausts
    expect(s.server.requestsTo('POST', /\/commit$/)).toHaveLength(4);
    expect(rows(s.db, dirtyRowsSql(s.db, s.options.tables, 'd.key_json', 'd.key_json'))).toEqual([
      { key_json: '{"id":"u1"}', payload: '{"id":"u1","name":"one"}' },
      { key_json: '{"id":"u2"}', payload: '{"id":"u2","name":"two"}' },
    ]);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_outbox_rows')).toBe(0);
  });
});
