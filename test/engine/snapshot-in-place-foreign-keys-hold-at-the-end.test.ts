/**
 * Chunks written in place go in with foreign keys unenforced (a chunk may bring a child before its
 * parent), so the final transaction checks every reference: a snapshot that leaves a child without
 * its parent fails with `apply_failed` and the device is as before (enforcement back on). A parent
 * the app deletes during the download (CASCADE) takes the children a later chunk brings with it,
 * as a pulled bundle's children under a pending delete, and the delete stays pending.
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA =
  'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT); ' +
  'CREATE TABLE posts (id TEXT PRIMARY KEY NOT NULL, name TEXT, user_id TEXT REFERENCES users(id) ON DELETE CASCADE)';
const TABLES = [
  { table: 'users', syncKey: 'id' },
  { table: 'posts', syncKey: 'id' },
];
const user = (id: string, v: number) => ({ schema: 'main', table: 'users', key: { id }, row_version: v, payload: { id, name: id } });
const post = (id: string, userId: string, v: number) => ({
  schema: 'main',
  table: 'posts',
  key: { id },
  row_version: v,
  payload: { id, name: id, user_id: userId },
});

/** Scripts a snapshot in 2-row chunks; the second waits for `second`. Resolves once the first chunk landed. */
function scriptSnapshot(s: EngineSetup, snapshotRows: unknown[], second: Promise<void>): Promise<void> {
  s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
  s.server.on('POST', '/sync/snapshot-sessions', {
    status: 200,
    body: {
      snapshot_id: 'snap',
      snapshot_bundle_seq: 8,
      row_count: snapshotRows.length,
      byte_count: 1,
      expires_at: '2099-01-01T00:00:00Z',
    },
  });
  s.server.always('GET', '/sync/snapshot-sessions/snap', async (req) => {
    const after = Number(req.query.after_row_ordinal);
    if (after > 0) await second;
    const part = snapshotRows.slice(after, after + 2);
    return {
      status: 200,
      body: {
        snapshot_id: 'snap',
        snapshot_bundle_seq: 8,
        rows: part,
        next_row_ordinal: after + part.length,
        byte_count: 1,
        has_more: after + part.length < snapshotRows.length,
      },
    };
  });
  return new Promise((resolve) => {
    const stop = s.engine.subscribe((e) => {
      if (e.type === 'status' && e.status.progress?.done === 2) {
        stop();
        resolve();
      }
    });
  });
}

describe('foreign keys of a snapshot written in place', () => {
  it('a child left without its parent fails the hydrate and takes every row out', async () => {
    const s = await openEngine(SCHEMA, TABLES, { snapshotChunkRows: 2, retry: { attempts: 1 } });
    await attachStartedEmpty(s);
    void scriptSnapshot(s, [post('p1', 'u1', 1), post('p2', 'nobody', 2), user('u1', 3)], Promise.resolve());
    await expect(s.engine.hydrate()).rejects.toMatchObject({ code: 'apply_failed' });
    expect(scalar(s.db, 'SELECT COUNT(*) FROM posts')).toBe(0);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM users')).toBe(0);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state')).toBe(0);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_snapshot_stage')).toBe(0);
    expect(scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state')).toBe(0);
    expect(scalar(s.db, 'PRAGMA foreign_keys')).toBe(1);
  });

  it('a parent the app deletes meanwhile takes the children that arrive later', async () => {
    const s = await openEngine(SCHEMA, TABLES, { snapshotChunkRows: 2 });
    await attachStartedEmpty(s);
    let release!: () => void;
    const second = new Promise<void>((r) => (release = r));
    const landed = scriptSnapshot(s, [user('u1', 1), post('p1', 'u1', 2), post('p2', 'u1', 3), user('u2', 4)], second);
    const lost: unknown[] = [];
    s.engine.subscribe((e) => e.type === 'lost' && lost.push(e));
    const done = s.engine.hydrate();
    await landed;
    s.db.exec("DELETE FROM users WHERE id = 'u1'");
    expect(scalar(s.db, 'SELECT COUNT(*) FROM posts')).toBe(0);
    release();

    await expect(done).resolves.toMatchObject({ outcome: 'applied_snapshot', checkpoint: 8, rowsApplied: 4 });
    expect(rows(s.db, 'SELECT id FROM users')).toEqual([{ id: 'u2' }]);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM posts')).toBe(0);
    // The child that came after the delete is reported as a pulled one under a pending delete is.
    expect(lost).toEqual([
      { type: 'lost', lost: expect.objectContaining({ table: 'posts', key: 'p2', reason: 'parent_deleted_locally' }) },
    ]);
    expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows ORDER BY key_json')).toEqual([
      { key_json: '{"id":"p1"}', op: 'DELETE' },
      { key_json: '{"id":"u1"}', op: 'DELETE' },
    ]);
    expect(rows(s.db, 'PRAGMA foreign_key_check')).toEqual([]);
    expect(scalar(s.db, 'PRAGMA foreign_keys')).toBe(1);
  });
});
