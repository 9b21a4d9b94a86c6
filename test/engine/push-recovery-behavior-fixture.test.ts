/**
 * Push recovery behaviour, data-driven from `push/behavior/recovery.json`, against a push server
 * with real semantics (`support/push-responder.ts`) scripted per case.
 * Mappings where our engine differs on purpose (see docs/engine.md):
 * - "deleted-authoritative-invalid-resolver-restores-dirty-rows": KMP treats keep-local of an
 *   UPDATE against a server tombstone as invalid; our client-wins re-creates the row (INSERT on
 *   the tombstone version), so the push succeeds and the local row survives.
 * - "committed-replay-pruned-requires-rebuild": KMP stops with `rebuild_required`; we recover in
 *   the same call (skip past the committed tuple, rebuild from a snapshot), so the outcome is
 *   `committed` with the snapshot applied.
 * - committed rows are fetched back only when the commit is not exactly the push (its bundle_hash
 *   is not the hash of the pushed rows); the three committed-rows cases therefore run against a
 *   server that canonicalizes the pushed name (FETCHES_COMMITTED_ROWS).
 * - exception names: `protocol_error` = our `bad_server_response` / `bundle_hash_mismatch`,
 *   `http_error` = the server's error code.
 * The two request-hash cases are covered by `push-basic-insert-fixture.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import type { SyncError } from '../../worker/engine/index.ts';
import { loadContract } from '../contracts.ts';
import { withCaptureSuppressed } from '../../worker/engine/capture.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { normalizingFetch } from './support/normalizing-push-server.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows, scalar } from './support/sqlite.ts';

const fixture = loadContract<{ cases: any[] }>('push/behavior/recovery.json');
const USERS = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const USERS_POSTS = `${USERS};
CREATE TABLE posts (id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED, title TEXT NOT NULL);`;

function runSetup(s: EngineSetup, sql: string[]): void {
  let batch: string[] | null = null;
  for (const x of sql) {
    if (/apply_mode = 1/.test(x)) batch = [];
    else if (/apply_mode = 0/.test(x)) {
      const b = batch ?? [];
      withCaptureSuppressed(s.db, () => b.forEach((q) => s.db.exec(q)));
      batch = null;
    } else if (batch) batch.push(x);
    else s.db.exec(x);
  }
}

function state(s: EngineSetup) {
  return {
    rebuildRequired: Number(scalar(s.db, 'SELECT rebuild_required FROM _sync_attachment_state')) === 1,
    outboxState: scalar(s.db, 'SELECT state FROM _sync_outbox_bundle'),
    outboxRowCount: Number(scalar(s.db, 'SELECT COUNT(*) FROM _sync_outbox_rows')),
    dirtyRowCount: Number(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')),
    nextSourceBundleId: Number(scalar(s.db, 'SELECT COALESCE(MAX(next_source_bundle_id), 1) FROM _sync_source_state')),
  };
}

const EXCEPTION: Record<string, string[]> = {
  protocol_error: ['bad_server_response', 'bundle_hash_mismatch'],
  http_error: ['push_chunk_failed'],
};

// Cases about the committed-rows endpoint: the engine reads committed rows back only when the
// commit differs from the push (an identical commit is proved by its bundle_hash), so these run
// against a server that canonicalizes the pushed name.
const FETCHES_COMMITTED_ROWS = new Set([
  'committed_replay_pruned',
  'committed_replay_bad_bundle_hash',
  'committed_bundle_not_found_then_success',
]);

const MAPPED = new Set(['deleted-authoritative-invalid-resolver-restores-dirty-rows', 'committed-replay-pruned-requires-rebuild']);
const ELSEWHERE = new Set([
  'already-committed-request-hash-mismatch-preserves-source-sequence-error',
  'committed-remote-request-hash-mismatch-requires-rebuild',
]);

describe('push recovery (push/behavior/recovery.json)', () => {
  for (const c of fixture.cases.filter((x) => !ELSEWHERE.has(x.name))) {
    it(c.name, async () => {
      const two = c.schema === 'users-posts';
      let scripted: typeof fetch = () => Promise.reject(new Error('not open yet'));
      const s = await openEngine(
        two ? USERS_POSTS : USERS,
        two
          ? [
              { table: 'users', syncKey: 'id' },
              { table: 'posts', syncKey: 'id' },
            ]
          : [{ table: 'users', syncKey: 'id' }],
        {
          conflicts: c.resolver === 'client_wins' || c.resolver === 'keep_local' ? 'client-wins' : 'server-wins',
          ...(FETCHES_COMMITTED_ROWS.has(c.serverScript.kind) ? { fetch: normalizingFetch(() => scripted, 'name') } : {}),
        },
      );
      scripted = s.server.fetch;
      await attachStartedEmpty(s);
      const server = new PushResponder();
      const script = c.serverScript;
      if (c.name === 'structured-conflict-preserves-sibling-rows-from-rejected-bundle') {
        // user-1 exists remotely at version 1 (pushed by this device first).
        server.install(s.server);
        runSetup(s, c.localSetupSql);
        await s.engine.pushPending();
        server.override(
          'commit',
          { status: 409, body: { error: 'push_conflict', message: 'conflict', conflict: script.conflict } },
          1,
          () => true,
        );
        server.versions.set('users:{"id":"user-1"}', { version: 7, deleted: false, payload: script.conflict.server_row });
        server.nextSeq = 8;
      } else {
        // Seed rows that the fixture marks as already synced live on the server too.
        runSetup(s, c.localSetupSql);
        for (const r of rows(s.db, 'SELECT table_name, key_json, row_version, deleted FROM _sync_row_state')) {
          server.versions.set(`${r.table_name as string}:${r.key_json as string}`, {
            version: Number(r.row_version),
            deleted: r.deleted === 1,
            payload: null,
          });
        }
        switch (script.kind) {
          case 'conflict_once':
            server.override('commit', { status: 409, body: { error: 'push_conflict', message: 'conflict', conflict: script.conflict } });
            if (script.conflict.server_row_deleted)
              server.versions.set('users:{"id":"user-1"}', { version: 7, deleted: true, payload: null });
            server.nextSeq = 8;
            break;
          case 'committed_replay_pruned':
            server.override('rows', { status: 409, body: { error: 'history_pruned', message: 'pruned' } });
            s.server.on('POST', '/sync/snapshot-sessions', {
              status: 200,
              body: { snapshot_id: 'snap', snapshot_bundle_seq: 1, row_count: 1, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
            });
            s.server.on('GET', '/sync/snapshot-sessions/snap', {
              status: 200,
              body: {
                snapshot_id: 'snap',
                snapshot_bundle_seq: 1,
                rows: [{ schema: 'main', table: 'users', key: { id: 'user-1' }, row_version: 1, payload: { id: 'user-1', name: 'Ada' } }],
                next_row_ordinal: 1,
                byte_count: 1,
                has_more: false,
              },
            });
            s.server.always('DELETE', '/sync/snapshot-sessions/snap', { status: 204 });
            break;
          case 'committed_replay_bad_bundle_hash':
            server.tamperNextRows = true;
            break;
          case 'committed_bundle_not_found_then_success':
            server.override(
              'rows',
              { status: 404, body: { error: 'committed_bundle_not_found', message: 'not yet' } },
              script.notFoundCount,
            );
            break;
          case 'precommit_retry':
            server.override('chunk', { status: 500, body: { error: 'push_chunk_failed', message: 'boom' } });
            break;
          default:
            throw new Error(`unmapped server script ${script.kind}`);
        }
        server.install(s.server);
      }

      for (const step of c.steps) {
        if (step.action === 'localSql') {
          step.sql.forEach((q: string) => s.db.exec(q));
        } else {
          const result = await s.engine.pushPending().then(
            () => null,
            (e: SyncError) => e,
          );
          if (MAPPED.has(c.name)) {
            expect(result).toBeNull();
            expect(state(s)).toMatchObject({
              rebuildRequired: false,
              outboxState: 'none',
              outboxRowCount: 0,
              dirtyRowCount: 0,
              nextSourceBundleId: 2,
            });
            expect(rows(s.db, 'SELECT id, name FROM users')).toEqual(
              c.name.startsWith('deleted') ? [{ id: 'user-1', name: 'Local Name' }] : [{ id: 'user-1', name: 'Ada' }],
            );
            continue;
          }
          if (step.expectedException === 'none') expect(result).toBeNull();
          else expect(EXCEPTION[step.expectedException] ?? [step.expectedException]).toContain(result?.code);
          expect(state(s)).toEqual(step.expectedState);
        }
        for (const [table, expected] of Object.entries(step.expectedAppState ?? {})) {
          expect(rows(s.db, `SELECT * FROM ${table} ORDER BY id`)).toEqual(expected);
        }
        if (step.expectedServerState?.uploadedRows) {
          const last = server.committed.at(-1)!;
          expect(last.rows.map((r) => `${r.table}:${r.op}:${r.key.id}`)).toEqual(step.expectedServerState.uploadedRows);
        }
        if (step.expectedServerState?.createRequestCount) {
          expect(s.server.requestsTo('POST', '/sync/push-sessions')).toHaveLength(step.expectedServerState.createRequestCount);
        }
      }
    });
  }
});
