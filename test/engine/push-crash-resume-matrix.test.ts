/**
 * Crash-resume at every push step: the server performs the step and the response is lost, the
 * engine is dropped, a new engine opens over the same database, and the next push completes.
 * Invariant for every step: exactly one committed bundle for source bundle 1, the row present
 * once, no pending change left, `next_source_bundle_id` = 2, checkpoint = 1. Committed rows are
 * fetched only when the commit differs from the push (here: a server that canonicalizes `name`).
 */
import { describe, expect, it } from 'vitest';
import type { PushStep } from './support/push-responder.ts';
import { PushResponder } from './support/push-responder.ts';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import { normalizingFetch } from './support/normalizing-push-server.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = `
CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
CREATE TABLE posts (id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED, title TEXT NOT NULL);`;
const TABLES = [
  { table: 'users', syncKey: 'id' },
  { table: 'posts', syncKey: 'id' },
];

describe('push crash/resume matrix', () => {
  for (const step of ['before-upload', 'create', 'chunk', 'commit', 'rows'] as const) {
    it(`dropped after ${step}`, async () => {
      // A commit identical to the push is proved by its bundle_hash and never fetched back: for the
      // committed-rows step the server canonicalizes a value, so the rows must be fetched.
      let scripted: typeof fetch = () => Promise.reject(new Error('not open yet'));
      const s = await openEngine(SCHEMA, TABLES, {
        retry: { attempts: 1 },
        pushChunkRows: 1,
        ...(step === 'rows' ? { fetch: normalizingFetch(() => scripted, 'name') } : {}),
      });
      scripted = s.server.fetch;
      await attachStartedEmpty(s);
      s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', TABLES) });
      if (step === 'before-upload') s.server.on('POST', '/sync/push-sessions', () => Promise.reject(new TypeError('offline')));
      const server = new PushResponder();
      server.install(s.server);
      s.db.exec("INSERT INTO users VALUES ('u1', 'Ada'); INSERT INTO posts VALUES ('p1', 'u1', 'Hello')");

      if (step === 'before-upload') {
        // Freeze happened, then the connection died before the first request got through.
        await s.engine.pushPending().catch(() => undefined);
        expect(scalar(s.db, 'SELECT state FROM _sync_outbox_bundle')).toBe('prepared');
      } else {
        server.crashAfter(step as PushStep);
        const err = await s.engine.pushPending().catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'network_error' });
      }
      await s.engine.close();

      const again = await s.reopen();
      const res = await again.pushPending();
      expect(res.outcome).toBe('committed');
      expect(server.committed).toHaveLength(1);
      expect(server.committed[0]!.sourceBundleId).toBe(1);
      expect(server.committed[0]!.rows.map((r) => r.table)).toEqual(['users', 'posts']); // parents first
      expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')).toBe(0);
      expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_outbox_rows')).toBe(0);
      expect(scalar(s.db, 'SELECT next_source_bundle_id FROM _sync_source_state')).toBe(2);
      expect(scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state')).toBe(1);
      expect(rows(s.db, 'SELECT table_name, row_version, deleted FROM _sync_row_state ORDER BY table_name')).toEqual([
        { table_name: 'posts', row_version: 1, deleted: 0 },
        { table_name: 'users', row_version: 1, deleted: 0 },
      ]);
      expect(scalar(s.db, 'SELECT name FROM users')).toBe(step === 'rows' ? 'ADA' : 'Ada');
      expect(s.server.requestsTo('GET', /\/committed-bundles\//).length > 0).toBe(step === 'rows');
      // A second push has nothing to send.
      expect((await again.pushPending()).outcome).toBe('no_change');
      expect(server.committed).toHaveLength(1);
    });
  }
});
