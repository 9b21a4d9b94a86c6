/**
 * A fresh device hydrating in place shows the rows of each chunk as it lands, and the app may
 * write to them: an edit of a row that arrived, a delete of one, an insert of a key a later chunk
 * brings, and a new row all stay as the app wrote them and pending (to be pushed), with the
 * snapshot's row versions underneath, as the staged path's re-applied intents give.
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const user = (id: string, v: number) => ({
  schema: 'main',
  table: 'users',
  key: { id },
  row_version: v,
  payload: { id, name: `server ${id}` },
});

describe('app writes during an in-place hydrate', () => {
  it('are kept on top of the snapshot', async () => {
    const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT)', [{ table: 'users', syncKey: 'id' }], {
      snapshotChunkRows: 2,
    });
    await attachStartedEmpty(s);
    const snapshotRows = [user('a', 1), user('b', 2), user('c', 3), user('d', 4)];
    let release!: () => void;
    const second = new Promise<void>((r) => (release = r));
    s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
    s.server.on('POST', '/sync/snapshot-sessions', {
      status: 200,
      body: { snapshot_id: 'snap', snapshot_bundle_seq: 6, row_count: 4, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
    });
    s.server.always('GET', '/sync/snapshot-sessions/snap', async (req) => {
      const after = Number(req.query.after_row_ordinal);
      if (after > 0) await second;
      return {
        status: 200,
        body: {
          snapshot_id: 'snap',
          snapshot_bundle_seq: 6,
          rows: snapshotRows.slice(after, after + 2),
          next_row_ordinal: after + 2,
          byte_count: 1,
          has_more: after + 2 < 4,
        },
      };
    });
    const landed = new Promise<void>((resolve) => {
      const stop = s.engine.subscribe((e) => {
        if (e.type === 'status' && e.status.progress?.done === 2) {
          stop();
          resolve();
        }
      });
    });
    const done = s.engine.hydrate();
    await landed;
    s.db.exec("UPDATE users SET name = 'edited here' WHERE id = 'a'");
    s.db.exec("DELETE FROM users WHERE id = 'b'");
    s.db.exec("INSERT INTO users VALUES ('c', 'mine before the server''s came')");
    s.db.exec("INSERT INTO users VALUES ('new', 'mine')");
    release();

    await expect(done).resolves.toMatchObject({ outcome: 'applied_snapshot', checkpoint: 6, rowsApplied: 4 });
    expect(rows(s.db, 'SELECT id, name FROM users ORDER BY id')).toEqual([
      { id: 'a', name: 'edited here' },
      { id: 'c', name: "mine before the server's came" },
      { id: 'd', name: 'server d' },
      { id: 'new', name: 'mine' },
    ]);
    expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows ORDER BY key_json')).toEqual([
      { key_json: '{"id":"a"}', op: 'UPDATE' },
      { key_json: '{"id":"b"}', op: 'DELETE' },
      { key_json: '{"id":"c"}', op: 'INSERT' },
      { key_json: '{"id":"new"}', op: 'INSERT' },
    ]);
    expect(rows(s.db, 'SELECT key_json, row_version FROM _sync_row_state ORDER BY key_json')).toEqual([
      { key_json: '{"id":"a"}', row_version: 1 },
      { key_json: '{"id":"b"}', row_version: 2 },
      { key_json: '{"id":"c"}', row_version: 3 },
      { key_json: '{"id":"d"}', row_version: 4 },
    ]);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_snapshot_stage')).toBe(0);
  });
});
