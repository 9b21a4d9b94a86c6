/**
 * A fresh device (no synced row, nothing pending) without enforced foreign keys writes each
 * snapshot chunk straight into its tables as it arrives: the first chunk's rows and versions are
 * there while the second chunk is still on its way, nothing but the in-place marker is staged,
 * and the end state is the one the staged path gives, also where a foreign key joins the tables
 * and a chunk brings a child before its parent. A device with synced rows still stages.
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const row = (table: string, id: string, v: number, extra: Record<string, unknown> = {}) => ({
  schema: 'main',
  table,
  key: { id },
  row_version: v,
  payload: { id, name: `${table} ${id}`, ...extra },
});
type Row = ReturnType<typeof row>;

/**
 * Scripts a 4-row snapshot in 2-row chunks; the second chunk is answered only once `release` is
 * called, so the test looks at the device between the two chunks.
 */
function scriptTwoChunks(s: EngineSetup, snapshotRows: Row[], id = 'snap'): { release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
  s.server.on('POST', '/sync/snapshot-sessions', {
    status: 200,
    body: { snapshot_id: id, snapshot_bundle_seq: 9, row_count: 4, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
  });
  s.server.always('GET', `/sync/snapshot-sessions/${id}`, async (req) => {
    const after = Number(req.query.after_row_ordinal);
    if (after > 0) await gate;
    const part = snapshotRows.slice(after, after + 2);
    return {
      status: 200,
      body: {
        snapshot_id: id,
        snapshot_bundle_seq: 9,
        rows: part,
        next_row_ordinal: after + 2,
        byte_count: 1,
        has_more: after + 2 < 4,
      },
    };
  });
  return { release };
}

/** Resolves once the engine reports `done` rows of the hydrate. */
function progressReaches(s: EngineSetup, done: number): Promise<void> {
  return new Promise((resolve) => {
    const stop = s.engine.subscribe((e) => {
      if (e.type === 'status' && e.status.progress?.done === done) {
        stop();
        resolve();
      }
    });
  });
}

describe('a fresh device hydrating by snapshot', () => {
  it('writes each chunk into its tables as it arrives', async () => {
    const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT)', [{ table: 'users', syncKey: 'id' }], {
      snapshotChunkRows: 2,
    });
    await attachStartedEmpty(s);
    const gate = scriptTwoChunks(s, [row('users', 'a', 1), row('users', 'b', 2), row('users', 'c', 3), row('users', 'd', 4)]);
    const firstChunk = progressReaches(s, 2);
    const done = s.engine.hydrate();
    await firstChunk;
    expect(rows(s.db, 'SELECT id, name FROM users ORDER BY id')).toEqual([
      { id: 'a', name: 'users a' },
      { id: 'b', name: 'users b' },
    ]);
    expect(rows(s.db, 'SELECT key_json, row_version FROM _sync_row_state ORDER BY key_json')).toEqual([
      { key_json: '{"id":"a"}', row_version: 1 },
      { key_json: '{"id":"b"}', row_version: 2 },
    ]);
    // Only the marker saying the tables hold an unfinished snapshot: no staged rows.
    expect(rows(s.db, 'SELECT chunk_ordinal, table_name, row_count FROM _sync_snapshot_stage')).toEqual([
      { chunk_ordinal: 0, table_name: '', row_count: 0 },
    ]);
    // Nothing the snapshot wrote is a local change.
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')).toBe(0);
    gate.release();

    await expect(done).resolves.toMatchObject({ outcome: 'applied_snapshot', checkpoint: 9, rowsApplied: 4 });
    expect(rows(s.db, 'SELECT id FROM users ORDER BY id').map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(rows(s.db, 'SELECT row_version, deleted FROM _sync_row_state ORDER BY key_json')).toEqual(
      [1, 2, 3, 4].map((v) => ({ row_version: v, deleted: 0 })),
    );
    expect(scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state')).toBe(9);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_snapshot_stage')).toBe(0);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')).toBe(0);
  });

  it('writes a child before its parent when a foreign key joins the tables', async () => {
    const s = await openEngine(
      'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT); ' +
        'CREATE TABLE posts (id TEXT PRIMARY KEY NOT NULL, name TEXT, user_id TEXT REFERENCES users(id))',
      [
        { table: 'users', syncKey: 'id' },
        { table: 'posts', syncKey: 'id' },
      ],
      { snapshotChunkRows: 2 },
    );
    await attachStartedEmpty(s);
    const gate = scriptTwoChunks(s, [
      row('posts', 'p1', 1, { user_id: 'u1' }),
      row('posts', 'p2', 2, { user_id: 'u1' }),
      row('users', 'u1', 3),
      row('users', 'u2', 4),
    ]);
    const firstChunk = progressReaches(s, 2);
    const done = s.engine.hydrate();
    await firstChunk;
    expect(scalar(s.db, 'SELECT COUNT(*) FROM posts')).toBe(2);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_snapshot_stage')).toBe(1);
    expect(scalar(s.db, 'PRAGMA foreign_keys')).toBe(1);
    gate.release();
    await expect(done).resolves.toMatchObject({ outcome: 'applied_snapshot', checkpoint: 9, rowsApplied: 4 });
    expect(rows(s.db, 'SELECT id, user_id FROM posts ORDER BY id')).toEqual([
      { id: 'p1', user_id: 'u1' },
      { id: 'p2', user_id: 'u1' },
    ]);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM users')).toBe(2);
    expect(rows(s.db, 'PRAGMA foreign_key_check')).toEqual([]);
  });

  it('stages when it holds synced rows', async () => {
    const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT)', [{ table: 'users', syncKey: 'id' }], {
      snapshotChunkRows: 2,
    });
    await attachStartedEmpty(s);
    const first = scriptTwoChunks(s, [row('users', 'a', 1), row('users', 'b', 2), row('users', 'c', 3), row('users', 'd', 4)]);
    first.release();
    await s.engine.hydrate();
    const gate = scriptTwoChunks(s, [row('users', 'a', 5), row('users', 'b', 6), row('users', 'c', 7), row('users', 'e', 8)], 'again');
    const firstChunk = progressReaches(s, 2);
    const done = s.engine.hydrate();
    await firstChunk;
    expect(rows(s.db, 'SELECT chunk_ordinal, table_name, row_count FROM _sync_snapshot_stage')).toEqual([
      { chunk_ordinal: 1, table_name: 'users', row_count: 2 },
    ]);
    expect(rows(s.db, 'SELECT id FROM users ORDER BY id').map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    gate.release();
    await expect(done).resolves.toMatchObject({ outcome: 'applied_snapshot', checkpoint: 9, rowsApplied: 4 });
    expect(rows(s.db, 'SELECT id FROM users ORDER BY id').map((r) => r.id)).toEqual(['a', 'b', 'c', 'e']);
  });
});
