/**
 * Lifecycle crash/restart behaviour (after `lifecycle/behavior/basic.json`, whose full-state
 * snapshots are KMP's table layout; these tests assert the same outcomes on ours):
 * - a remote_authoritative attach whose snapshot download dies leaves the device anonymous with
 *   its data intact; after a restart, attach re-stages a fresh snapshot and applies only it;
 * - a rebuild-required gate survives a restart and the next sync resumes keep-source recovery;
 * - a detach that fails mid-cleanup rolls back completely, and succeeds once the cause is gone.
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const TABLES = [{ table: 'users', syncKey: 'id' }];

function scriptSnapshot(s: EngineSetup, id: string, seq: number, list: { id: string; name: string; v: number }[], failAfter?: number) {
  s.server.on('POST', '/sync/snapshot-sessions', {
    status: 200,
    body: { snapshot_id: id, snapshot_bundle_seq: seq, row_count: list.length, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
  });
  list.forEach((r, i) => {
    if (failAfter !== undefined && i >= failAfter) {
      if (i === failAfter) s.server.on('GET', `/sync/snapshot-sessions/${id}`, () => Promise.reject(new TypeError('connection reset')));
      return;
    }
    s.server.on('GET', `/sync/snapshot-sessions/${id}`, {
      status: 200,
      body: {
        snapshot_id: id,
        snapshot_bundle_seq: seq,
        rows: [{ schema: 'main', table: 'users', key: { id: r.id }, row_version: r.v, payload: { id: r.id, name: r.name } }],
        next_row_ordinal: i + 1,
        byte_count: 1,
        has_more: i < list.length - 1,
      },
    });
  });
  s.server.always('DELETE', `/sync/snapshot-sessions/${id}`, { status: 204 });
}

describe('lifecycle restart behaviour', () => {
  it('remote-authoritative-partial-replace-restart-restages', async () => {
    const s = await openEngine(SCHEMA, TABLES, { retry: { attempts: 1 }, snapshotChunkRows: 1 });
    s.db.exec("INSERT INTO users VALUES ('anon', 'offline')");
    s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', TABLES) });
    s.server.always('POST', '/sync/connect', { status: 200, body: { resolution: 'remote_authoritative' } });
    scriptSnapshot(
      s,
      'snapshot-a',
      9,
      [
        { id: 'user-a', name: 'Ada', v: 2 },
        { id: 'unused', name: 'Unused', v: 3 },
      ],
      1,
    );
    await expect(s.engine.attach('user-1')).rejects.toMatchObject({ code: 'network_error' });
    expect(s.engine.status.userId).toBeNull();
    expect(scalar(s.db, 'SELECT kind FROM _sync_operation_state')).toBe('remote_replace');
    expect(rows(s.db, 'SELECT id FROM users')).toEqual([{ id: 'anon' }]);
    await s.engine.close();

    const again = await s.reopen();
    scriptSnapshot(s, 'snapshot-b', 12, [{ id: 'user-b', name: 'Grace', v: 3 }]);
    await expect(again.attach('user-1')).resolves.toMatchObject({ outcome: 'used_remote_state', snapshotRows: 1, keptLocalChanges: 1 });
    expect(rows(s.db, 'SELECT id FROM users ORDER BY id')).toEqual([{ id: 'anon' }, { id: 'user-b' }]);
    expect(again.status).toMatchObject({ userId: 'user-1', checkpoint: 12, pendingCount: 1 });
    expect(scalar(s.db, 'SELECT kind FROM _sync_operation_state')).toBe('none');
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_snapshot_stage')).toBe(0);
  });

  it('rebuild-required-restart-keep-source', async () => {
    const s = await openEngine(SCHEMA, TABLES);
    await attachStartedEmpty(s);
    s.db.exec('UPDATE _sync_attachment_state SET rebuild_required = 1');
    await s.engine.close();
    const again = await s.reopen();
    s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', TABLES) });
    scriptSnapshot(s, 'snapshot-generic-rebuild', 7, [{ id: 'user-1', name: 'Generic Rebuild', v: 3 }]);
    s.server.on('GET', '/sync/pull', { status: 200, body: { stable_bundle_seq: 7, bundles: [], has_more: false } });
    const res = await again.sync();
    expect(res.pull.outcome).toBe('already_at_target');
    expect(rows(s.db, 'SELECT id, name FROM users')).toEqual([{ id: 'user-1', name: 'Generic Rebuild' }]);
    expect(again.status.checkpoint).toBe(7);
    expect(scalar(s.db, 'SELECT rebuild_required FROM _sync_attachment_state')).toBe(0);
  });

  it('detach-mid-cleanup-failure-rolls-back', async () => {
    const s = await openEngine(SCHEMA, TABLES);
    await attachStartedEmpty(s);
    s.server.on('GET', '/sync/pull', {
      status: 200,
      body: {
        stable_bundle_seq: 1,
        has_more: false,
        bundles: [
          {
            bundle_seq: 1,
            source_id: 'x',
            source_bundle_id: 1,
            rows: [{ schema: 'main', table: 'users', key: { id: 'u1' }, op: 'INSERT', row_version: 1, payload: { id: 'u1', name: 'Ada' } }],
          },
        ],
      },
    });
    await s.engine.pullToStable();
    s.db.exec("CREATE TRIGGER app_guard BEFORE DELETE ON users BEGIN SELECT RAISE(ABORT, 'app refuses'); END");
    await expect(s.engine.detach()).rejects.toMatchObject({ code: 'apply_failed' });
    expect(s.engine.status).toMatchObject({ userId: 'user-a', checkpoint: 1 });
    expect(rows(s.db, 'SELECT id FROM users')).toEqual([{ id: 'u1' }]);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state')).toBe(1);
    s.db.exec('DROP TRIGGER app_guard');
    await expect(s.engine.detach()).resolves.toEqual({ outcome: 'detached', discardedChanges: 0 });
    expect(rows(s.db, 'SELECT id FROM users')).toEqual([]);
  });
});
