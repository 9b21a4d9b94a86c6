/**
 * Pull, snapshot fallback, rotation and fail-closed validation, data-driven from
 * `pull-snapshot/basic.json`. Every rejected answer must leave the app table, row_state and
 * checkpoint exactly as they were.
 * Mapping: "source-replacement-snapshot" starts from a durable source-recovery state (what a
 * `source_retired` push leaves behind) rather than from the push itself, which other tests cover.
 */
import { describe, expect, it } from 'vitest';
import { SyncError } from '../../worker/engine/index.ts';
import { startSourceRecovery } from '../../worker/engine/metadata.ts';
import { loadContract } from '../contracts.ts';
import { attachStartedEmpty, openEngine, setSourceId } from './support/engine.ts';
import { scalar } from './support/sqlite.ts';

const fixture = loadContract<{ cases: any[] }>('pull-snapshot/basic.json');
const USERS = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';

async function attached() {
  const s = await openEngine(USERS, [{ table: 'users', syncKey: 'id' }]);
  await attachStartedEmpty(s);
  s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
  return s;
}

function state(s: Awaited<ReturnType<typeof attached>>) {
  return {
    lastBundleSeqSeen: Number(scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state')),
    usersRowCount: Number(scalar(s.db, 'SELECT COUNT(*) FROM users')),
    rowStateDeleted: Number(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state WHERE deleted = 1')),
    dirtyRowCount: Number(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')),
    rebuildRequired: Number(scalar(s.db, 'SELECT rebuild_required FROM _sync_attachment_state')) === 1,
    currentSourceId: scalar(s.db, 'SELECT current_source_id FROM _sync_attachment_state'),
  };
}

function setCheckpoint(s: Awaited<ReturnType<typeof attached>>, seq: number): void {
  s.db.exec({ sql: 'UPDATE _sync_attachment_state SET last_bundle_seq_seen = ?', bind: [seq] });
}

describe('pull and snapshot (pull-snapshot/basic.json)', () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const s = await attached();
      setCheckpoint(s, c.afterBundleSeq ?? 0);
      if (c.snapshotSession) s.server.on('POST', '/sync/snapshot-sessions', { status: 200, body: c.snapshotSession });
      if (c.snapshotChunkResponse)
        s.server.on('GET', `/sync/snapshot-sessions/${c.snapshotSession.snapshot_id}`, { status: 200, body: c.snapshotChunkResponse });

      if (c.expectedPullErrorContains) {
        s.server.on('GET', '/sync/pull', { status: 200, body: c.pullResponse });
        const before = state(s);
        const err = await s.engine.pullToStable().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SyncError);
        expect((err as SyncError).code).toBe('bad_server_response');
        expect((err as SyncError).message).toContain(c.expectedPullErrorContains);
        expect(state(s)).toEqual(before);
        return;
      }
      if (c.expectedSnapshotSessionErrorContains || c.expectedSnapshotChunkErrorContains) {
        s.db.exec("INSERT INTO users(id, name) VALUES ('keep-me', 'Local')");
        const before = state(s);
        const err = await s.engine.hydrate().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SyncError);
        expect((err as SyncError).message).toContain(c.expectedSnapshotSessionErrorContains ?? c.expectedSnapshotChunkErrorContains);
        expect(state(s)).toEqual(before);
        expect(scalar(s.db, "SELECT name FROM users WHERE id = 'keep-me'")).toBe('Local');
        return;
      }
      if (c.name === 'source-replacement-invalid') {
        setSourceId(s, 'retired-source');
        startSourceRecovery(s.db, 'user-a', 'source_retired', 'new-source');
        s.server.on('POST', '/sync/snapshot-sessions', c.sourceReplacementInvalidResponse);
        const err = await s.engine.pullToStable().catch((e: unknown) => e);
        expect((err as SyncError).code).toBe('source_replacement_invalid');
        expect(scalar(s.db, 'SELECT kind FROM _sync_operation_state')).toBe('source_recovery');
        expect(state(s).currentSourceId).toBe('retired-source');
        return;
      }
      if (c.snapshotSessionCreateRequest) {
        const r = c.snapshotSessionCreateRequest.source_replacement;
        setSourceId(s, r.previous_source_id);
        startSourceRecovery(s.db, 'user-a', r.reason, r.new_source_id);
        s.server.on('GET', '/sync/pull', {
          status: 200,
          body: { stable_bundle_seq: c.snapshotSession.snapshot_bundle_seq, bundles: [], has_more: false },
        });
        await s.engine.pullToStable();
        expect(s.server.requestsTo('POST', '/sync/snapshot-sessions')[0]!.body).toEqual(c.snapshotSessionCreateRequest);
        expect(s.server.requestsTo('POST', '/sync/snapshot-sessions')[0]!.headers['oversync-source-id']).toBe(r.previous_source_id);
        expect(s.server.requestsTo('GET', '/sync/pull')[0]!.headers['oversync-source-id']).toBe(r.new_source_id);
        expect(state(s)).toMatchObject(c.expectedFinalState);
        return;
      }
      if (c.historyPrunedResponse || c.checkpointAheadResponse) {
        s.server.on('GET', '/sync/pull', c.historyPrunedResponse ?? c.checkpointAheadResponse);
        const res = await s.engine.pullToStable();
        expect(res.outcome).toBe('applied_snapshot');
        expect(state(s)).toMatchObject(c.expectedFinalState);
        return;
      }
      s.server.on('GET', '/sync/pull', { status: 200, body: c.pullResponse });
      const res = await s.engine.pullToStable();
      expect(res.outcome).toBe('applied_incremental');
      expect(s.server.requestsTo('GET', '/sync/pull')[0]!.query).toMatchObject({ after_bundle_seq: String(c.afterBundleSeq) });
      expect(state(s)).toMatchObject(c.expectedFinalState);
    });
  }
});
