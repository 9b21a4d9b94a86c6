/**
 * Push, replay, conflict and hash proofs, data-driven from `push/basic-insert.json`.
 * Mapping: the fixture's `bundle_hash` values ("fixture-hash") and its request hash "aaaa…" are
 * placeholders. We verify both hashes, so where the fixture means "the matching hash" the test
 * substitutes the real one (bundle hash of the fixture's committed rows; our request hash); the
 * "bbbb…" request hashes are kept, because the mismatch is what those cases test. The fixture's
 * source id is installed as the engine's current source.
 */
import { describe, expect, it } from 'vitest';
import { bundleHash } from '../../protocol/index.ts';
import { SyncError } from '../../worker/engine/index.ts';
import { loadContract } from '../contracts.ts';
import { attachStartedEmpty, openEngine, setSourceId } from './support/engine.ts';
import type { RecordedRequest } from './support/scripted-server.ts';
import { rows, scalar } from './support/sqlite.ts';

const fixture = loadContract<{ cases: any[] }>('push/basic-insert.json');
const USERS = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const PLACEHOLDER_REQ = 'a'.repeat(64);

function withRealHashes(body: any, hash: string, requestHash: () => string): any {
  const out = structuredClone(body);
  if (typeof out.bundle_hash === 'string' && !/^[0-9a-f]{64}$/.test(out.bundle_hash)) out.bundle_hash = hash;
  if (out.canonical_request_hash === PLACEHOLDER_REQ) out.canonical_request_hash = requestHash();
  return out;
}

async function setup(c: any) {
  const s = await openEngine(USERS, [{ table: 'users', syncKey: 'id' }]);
  await attachStartedEmpty(s);
  setSourceId(s, 'source-fixture');
  const committedRows = c.committedBundleRowsResponse?.rows ?? [];
  const hash = committedRows.length ? await bundleHash(committedRows) : '';
  let ourRequestHash = '';
  const captureHash = (req: RecordedRequest) => {
    ourRequestHash = (req.body as { canonical_request_hash: string }).canonical_request_hash;
  };
  return { s, hash, captureHash, requestHash: () => ourRequestHash };
}

function finalState(s: Awaited<ReturnType<typeof openEngine>>) {
  return {
    dirtyRowCount: Number(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')),
    outboxRowCount: Number(scalar(s.db, 'SELECT COUNT(*) FROM _sync_outbox_rows')),
    outboxState: scalar(s.db, 'SELECT state FROM _sync_outbox_bundle'),
    lastBundleSeqSeen: Number(scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state')),
    rebuildRequired: Number(scalar(s.db, 'SELECT rebuild_required FROM _sync_attachment_state')) === 1,
    nextSourceBundleId: Number(
      scalar(s.db, "SELECT COALESCE((SELECT next_source_bundle_id FROM _sync_source_state WHERE source_id = 'source-fixture'), 1)"),
    ),
  };
}

describe('push (push/basic-insert.json)', () => {
  it('single-insert-commit', async () => {
    const c = fixture.cases.find((x) => x.name === 'single-insert-commit');
    const { s, hash, captureHash, requestHash } = await setup(c);
    s.db.exec("INSERT INTO users(id, name) VALUES ('user-1', 'Ada')");
    s.server.on('POST', '/sync/push-sessions', (req) => {
      captureHash(req);
      expect(req.body).toMatchObject({ source_bundle_id: 1, planned_row_count: 1 });
      return { status: 200, body: withRealHashes(c.pushSessionCreateResponse, hash, requestHash) };
    });
    s.server.on('POST', `/sync/push-sessions/${c.pushSessionCreateResponse.push_id}/chunks`, (req) => {
      expect(req.body).toEqual(c.pushChunkRequest);
      return { status: 200, body: c.pushChunkResponse };
    });
    s.server.on('POST', `/sync/push-sessions/${c.pushSessionCreateResponse.push_id}/commit`, () => ({
      status: 200,
      body: withRealHashes(c.pushCommitResponse, hash, requestHash),
    }));
    s.server.on('GET', '/sync/committed-bundles/1/rows', () => ({
      status: 200,
      body: withRealHashes(c.committedBundleRowsResponse, hash, requestHash),
    }));
    const res = await s.engine.pushPending();
    expect(res).toMatchObject({ outcome: 'committed', bundleSeq: 1, rowCount: 1 });
    const st = finalState(s);
    expect(st).toMatchObject({
      dirtyRowCount: c.expectedFinalState.dirtyRowCount,
      outboxRowCount: c.expectedFinalState.outboxRowCount,
      lastBundleSeqSeen: c.expectedFinalState.lastBundleSeqSeen,
      nextSourceBundleId: 2,
    });
    const rs = c.expectedFinalState.rowState;
    expect(rows(s.db, 'SELECT table_name, key_json, row_version, deleted FROM _sync_row_state')).toEqual([
      { table_name: rs.table, key_json: JSON.stringify(rs.key), row_version: rs.rowVersion, deleted: rs.deleted ? 1 : 0 },
    ]);
  });

  it('server-wins-update-conflict', async () => {
    const c = fixture.cases.find((x) => x.name === 'server-wins-update-conflict');
    const { s } = await setup(c);
    s.db.exec("INSERT INTO users(id, name) VALUES ('user-1', 'Local')");
    s.server.on('POST', '/sync/push-sessions', {
      status: 200,
      body: { status: 'staging', push_id: 'p1', planned_row_count: 1, next_expected_row_ordinal: 0 },
    });
    s.server.on('POST', '/sync/push-sessions/p1/chunks', { status: 200, body: { push_id: 'p1', next_expected_row_ordinal: 1 } });
    s.server.on('POST', '/sync/push-sessions/p1/commit', { status: 409, body: c.pushConflictResponse });
    const events: unknown[] = [];
    s.engine.subscribe((e) => e.type === 'conflict' && events.push(e.conflict));
    const res = await s.engine.pushPending();
    expect(res).toMatchObject({ outcome: 'no_change', conflicts: 1 });
    const st = finalState(s);
    expect(st).toMatchObject({ dirtyRowCount: 0, outboxRowCount: 0 });
    expect(rows(s.db, 'SELECT row_version, deleted FROM _sync_row_state')).toEqual([{ row_version: 2, deleted: 0 }]);
    expect(scalar(s.db, "SELECT name FROM users WHERE id = 'user-1'")).toBe('Server');
    expect(events).toEqual([
      {
        table: 'users',
        key: 'user-1',
        localOp: 'INSERT',
        localRow: { id: 'user-1', name: 'Local' },
        serverRow: c.pushConflictResponse.conflict.server_row,
        serverVersion: 2,
        serverDeleted: false,
        resolution: 'server',
      },
    ]);
  });

  it('already-committed-request-hash-mismatch-preserves-source-sequence-error', async () => {
    const c = fixture.cases.find((x) => x.name === 'already-committed-request-hash-mismatch-preserves-source-sequence-error');
    const { s, hash, requestHash } = await setup(c);
    s.db.exec(c.localWrite.sql);
    s.server.on('POST', '/sync/push-sessions', { status: 200, body: withRealHashes(c.pushSessionCreateResponse, hash, requestHash) });
    const err = await s.engine.pushPending().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncError);
    expect((err as SyncError).code).toBe(c.expectedFinalState.error);
    expect(finalState(s)).toMatchObject({
      rebuildRequired: c.expectedFinalState.rebuildRequired,
      outboxState: c.expectedFinalState.outboxState,
      outboxRowCount: c.expectedFinalState.outboxRowCount,
      nextSourceBundleId: c.expectedFinalState.nextSourceBundleId,
    });
    expect(scalar(s.db, "SELECT name FROM users WHERE id = 'user-1'")).toBe('Local Ada');
  });

  it('committed-remote-request-hash-mismatch-requires-rebuild', async () => {
    const c = fixture.cases.find((x) => x.name === 'committed-remote-request-hash-mismatch-requires-rebuild');
    const { s, hash, requestHash } = await setup(c);
    s.db.exec(c.localWrite.sql);
    s.server.on('POST', '/sync/push-sessions', {
      status: 200,
      body: { status: 'staging', push_id: 'p1', planned_row_count: 1, next_expected_row_ordinal: 0 },
    });
    s.server.on('POST', '/sync/push-sessions/p1/chunks', { status: 200, body: { push_id: 'p1', next_expected_row_ordinal: 1 } });
    s.server.on('POST', '/sync/push-sessions/p1/commit', { status: 200, body: withRealHashes(c.pushCommitResponse, hash, requestHash) });
    const err = await s.engine.pushPending().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncError);
    expect((err as SyncError).code).toBe(c.expectedFinalState.error);
    expect(finalState(s)).toMatchObject({
      rebuildRequired: c.expectedFinalState.rebuildRequired,
      outboxState: c.expectedFinalState.outboxState,
      outboxRowCount: c.expectedFinalState.outboxRowCount,
      nextSourceBundleId: c.expectedFinalState.nextSourceBundleId,
    });
    // Nothing of the mismatched bundle was applied.
    expect(scalar(s.db, "SELECT name FROM users WHERE id = 'user-1'")).toBe('Local Ada');
  });

  it('a placeholder (non-hex) bundle_hash is rejected and nothing is applied', async () => {
    const c = fixture.cases.find((x) => x.name === 'single-insert-commit');
    const { s } = await setup(c);
    s.db.exec("INSERT INTO users(id, name) VALUES ('user-1', 'Ada')");
    s.server.on('POST', '/sync/push-sessions', {
      status: 200,
      body: { ...c.pushSessionCreateResponse, canonical_request_hash: undefined },
    });
    s.server.on('POST', `/sync/push-sessions/${c.pushSessionCreateResponse.push_id}/chunks`, { status: 200, body: c.pushChunkResponse });
    s.server.on('POST', `/sync/push-sessions/${c.pushSessionCreateResponse.push_id}/commit`, {
      status: 200,
      body: { ...c.pushCommitResponse, canonical_request_hash: undefined },
    });
    s.server.always('DELETE', /push-sessions/, { status: 204 });
    const err = await s.engine.pushPending().catch((e: unknown) => e);
    expect((err as SyncError).code).toBe('bad_server_response');
    expect(finalState(s)).toMatchObject({ outboxState: 'prepared', outboxRowCount: 1, nextSourceBundleId: 1, lastBundleSeqSeen: 0 });
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state')).toBe(0);
  });
});
