/**
 * Bad server answers during push fail closed: a committed bundle (one that differs from the push,
 * so it is fetched) whose rows do not hash to its `bundle_hash`, a commit naming another source bundle, or committed rows for an unknown table
 * are typed errors; nothing is applied, the outbox stays, and a later push with a good answer
 * completes it. Lifecycle preconditions are typed too.
 */
import { describe, expect, it } from 'vitest';
import { SyncError } from '../../worker/engine/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { normalizingFetch } from './support/normalizing-push-server.ts';
import { PushResponder } from './support/push-responder.ts';
import { scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const TABLES = [{ table: 'users', syncKey: 'id' }];

async function setup(serverNormalizesName = false) {
  let scripted: typeof fetch = () => Promise.reject(new Error('not open yet'));
  const s = await openEngine(SCHEMA, TABLES, serverNormalizesName ? { fetch: normalizingFetch(() => scripted, 'name') } : {});
  scripted = s.server.fetch;
  await attachStartedEmpty(s);
  const server = new PushResponder();
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  return { s, server };
}

describe('bad committed bundles', () => {
  it('rows that do not match bundle_hash: nothing applied, outbox kept, retry succeeds', async () => {
    // The server canonicalizes the name, so the commit is not the push and its rows are fetched.
    const { s, server } = await setup(true);
    s.server.on('GET', /^\/sync\/committed-bundles\/1\/rows$/, async () => {
      const c = server.committed[0]!;
      const tampered = c.rows.map((r) => ({ ...r, payload: { ...r.payload, name: 'Mallory' } }));
      return {
        status: 200,
        body: {
          bundle_seq: 1,
          source_id: c.sourceId,
          source_bundle_id: 1,
          row_count: 1,
          bundle_hash: c.hash,
          rows: tampered,
          next_row_ordinal: 0,
          has_more: false,
        },
      };
    });
    server.install(s.server);
    const err = (await s.engine.pushPending().catch((e: unknown) => e)) as SyncError;
    expect(err).toBeInstanceOf(SyncError);
    expect(err.code).toBe('bundle_hash_mismatch');
    expect(scalar(s.db, 'SELECT state FROM _sync_outbox_bundle')).toBe('committed_remote');
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state')).toBe(0);
    expect(scalar(s.db, "SELECT name FROM users WHERE id = 'u1'")).toBe('Ada');
    const res = await s.engine.pushPending(); // the honest answer now
    expect(res).toMatchObject({ outcome: 'committed', bundleSeq: 1 });
    expect(server.committed).toHaveLength(1);
    expect(scalar(s.db, 'SELECT row_version FROM _sync_row_state')).toBe(1);
    expect(scalar(s.db, "SELECT name FROM users WHERE id = 'u1'")).toBe('ADA');
  });

  it('a commit answer for another source bundle is rejected before anything is applied', async () => {
    const { s, server } = await setup();
    s.server.on('POST', '/sync/push-sessions', { status: 200, body: { status: 'staging', push_id: 'p1', planned_row_count: 1 } });
    s.server.on('POST', '/sync/push-sessions/p1/chunks', { status: 200, body: { push_id: 'p1', next_expected_row_ordinal: 1 } });
    s.server.on('POST', '/sync/push-sessions/p1/commit', {
      status: 200,
      body: { bundle_seq: 1, source_id: s.engine.status.sourceId, source_bundle_id: 9, row_count: 1, bundle_hash: 'a'.repeat(64) },
    });
    s.server.always('DELETE', /push-sessions/, { status: 204 });
    void server;
    const err = (await s.engine.pushPending().catch((e: unknown) => e)) as SyncError;
    expect(err.code).toBe('bad_server_response');
    expect(err.message).toContain('source_bundle_id 9');
    expect(scalar(s.db, 'SELECT state FROM _sync_outbox_bundle')).toBe('prepared');
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state')).toBe(0);
  });

  it('a staging answer with a wrong planned_row_count is rejected', async () => {
    const { s } = await setup();
    s.server.on('POST', '/sync/push-sessions', { status: 200, body: { status: 'staging', push_id: 'p1', planned_row_count: 3 } });
    const err = (await s.engine.pushPending().catch((e: unknown) => e)) as SyncError;
    expect(err.code).toBe('bad_server_response');
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_outbox_rows')).toBe(1);
  });
});

describe('lifecycle preconditions', () => {
  it('push, pull and hydrate before attach are typed not_attached errors, with no network', async () => {
    const s = await openEngine(SCHEMA, TABLES);
    for (const op of [() => s.engine.pushPending(), () => s.engine.pullToStable(), () => s.engine.hydrate(), () => s.engine.sync()]) {
      await expect(op()).rejects.toMatchObject({ code: 'not_attached' });
    }
    expect(s.server.requests).toHaveLength(0);
  });

  it('attaching another user while attached is attach_binding_conflict; same user resumes offline', async () => {
    const s = await openEngine(SCHEMA, TABLES);
    await attachStartedEmpty(s);
    const before = s.server.requests.length;
    await expect(s.engine.attach('user-a')).resolves.toEqual({ status: 'connected', outcome: 'resumed', userId: 'user-a' });
    await expect(s.engine.attach('user-b')).rejects.toMatchObject({ code: 'attach_binding_conflict' });
    expect(s.server.requests.length).toBe(before);
  });

  it('a closed engine refuses work with engine_closed', async () => {
    const s = await openEngine(SCHEMA, TABLES);
    await s.engine.close();
    await expect(s.engine.sync()).rejects.toMatchObject({ code: 'engine_closed' });
    expect(s.engine.status.phase).toBe('closed');
  });
});
