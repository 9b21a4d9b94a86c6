/**
 * Crash/resume for pull and snapshot: a pull that dies between pages keeps every bundle it
 * applied (checkpoint advanced with each) and the next pull continues from there without
 * re-applying; a snapshot that dies mid-download leaves the app data untouched, and the retry
 * starts a fresh session from ordinal 0 (stale stage cleared).
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const TABLES = [{ table: 'users', syncKey: 'id' }];
const u = (id: string, v: number, name = id) => ({
  schema: 'main',
  table: 'users',
  key: { id },
  op: 'INSERT',
  row_version: v,
  payload: { id, name },
});
const bundle = (seq: number, ...r: unknown[]) => ({ bundle_seq: seq, source_id: 'x', source_bundle_id: seq, rows: r });

describe('pull crash/resume', () => {
  it('continues from the durable checkpoint after dying between pages', async () => {
    const s = await openEngine(SCHEMA, TABLES, { retry: { attempts: 1 }, pullMaxBundles: 2 });
    await attachStartedEmpty(s);
    s.server.on('GET', '/sync/pull', {
      status: 200,
      body: { stable_bundle_seq: 3, has_more: true, bundles: [bundle(1, u('a', 1)), bundle(2, u('b', 2))] },
    });
    s.server.on('GET', '/sync/pull', () => Promise.reject(new TypeError('tab closed')));
    await expect(s.engine.pullToStable()).rejects.toMatchObject({ code: 'network_error' });
    expect(s.engine.status.checkpoint).toBe(2);
    await s.engine.close();

    const again = await s.reopen();
    s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', TABLES) });
    s.server.on('GET', '/sync/pull', (req) => {
      expect(req.query).toEqual({ after_bundle_seq: '2', max_bundles: '2' });
      return { status: 200, body: { stable_bundle_seq: 3, has_more: false, bundles: [bundle(3, u('c', 3))] } };
    });
    const res = await again.pullToStable();
    expect(res).toMatchObject({ outcome: 'applied_incremental', checkpoint: 3, bundlesApplied: 1 });
    expect(rows(s.db, 'SELECT id FROM users ORDER BY id')).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
  });

  it('re-pulled bundles are skipped by version (idempotent apply)', async () => {
    const s = await openEngine(SCHEMA, TABLES);
    await attachStartedEmpty(s);
    s.server.on('GET', '/sync/pull', {
      status: 200,
      body: { stable_bundle_seq: 2, has_more: false, bundles: [bundle(1, u('a', 1, 'old')), bundle(2, u('a', 2, 'new'))] },
    });
    await s.engine.pullToStable();
    s.db.exec('UPDATE _sync_attachment_state SET last_bundle_seq_seen = 0'); // as if the checkpoint were lost
    s.server.on('GET', '/sync/pull', {
      status: 200,
      body: { stable_bundle_seq: 2, has_more: false, bundles: [bundle(1, u('a', 1, 'old')), bundle(2, u('a', 2, 'new'))] },
    });
    const res = await s.engine.pullToStable();
    expect(res.checkpoint).toBe(2);
    expect(scalar(s.db, "SELECT name FROM users WHERE id = 'a'")).toBe('new');
  });
});

describe('snapshot crash/resume', () => {
  it('a download that dies leaves app data untouched; the retry starts over cleanly', async () => {
    const s = await openEngine(SCHEMA, TABLES, { retry: { attempts: 1 }, snapshotChunkRows: 1 });
    await attachStartedEmpty(s);
    s.db.exec("INSERT INTO users VALUES ('local', 'mine')");
    const session = (id: string) => ({
      snapshot_id: id,
      snapshot_bundle_seq: 5,
      row_count: 2,
      byte_count: 20,
      expires_at: '2099-01-01T00:00:00Z',
    });
    const chunk = (id: string, after: number, r: unknown, more: boolean) => ({
      snapshot_id: id,
      snapshot_bundle_seq: 5,
      rows: [r],
      next_row_ordinal: after + 1,
      byte_count: 10,
      has_more: more,
    });
    s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
    s.server.on('POST', '/sync/snapshot-sessions', { status: 200, body: session('s1') });
    s.server.on('GET', '/sync/snapshot-sessions/s1', { status: 200, body: chunk('s1', 0, { ...u('a', 4), op: undefined }, true) });
    s.server.on('GET', '/sync/snapshot-sessions/s1', () => Promise.reject(new TypeError('tab closed')));
    await expect(s.engine.hydrate()).rejects.toMatchObject({ code: 'network_error' });
    expect(rows(s.db, 'SELECT id FROM users')).toEqual([{ id: 'local' }]);
    await s.engine.close();

    const again = await s.reopen();
    s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', TABLES) });
    s.server.on('POST', '/sync/snapshot-sessions', { status: 200, body: session('s2') });
    s.server.on('GET', '/sync/snapshot-sessions/s2', (req) => {
      expect(req.query.after_row_ordinal).toBe('0');
      return { status: 200, body: chunk('s2', 0, { ...u('a', 4), op: undefined }, true) };
    });
    s.server.on('GET', '/sync/snapshot-sessions/s2', { status: 200, body: chunk('s2', 1, { ...u('b', 5), op: undefined }, false) });
    const progress: unknown[] = [];
    again.subscribe((e) => e.type === 'status' && e.status.progress && progress.push(e.status.progress));
    const res = await again.hydrate();
    expect(res).toMatchObject({ outcome: 'applied_snapshot', checkpoint: 5, rowsApplied: 2 });
    expect(rows(s.db, 'SELECT id FROM users ORDER BY id')).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'local' }]);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_snapshot_stage')).toBe(0);
    expect(progress).toEqual(
      expect.arrayContaining([
        { done: 0, total: 2 },
        { done: 1, total: 2 },
        { done: 2, total: 2 },
      ]),
    );
    expect(again.status.pendingCount).toBe(1); // the local row is still a pending intent
  });
});
