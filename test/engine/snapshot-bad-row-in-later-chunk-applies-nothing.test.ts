/**
 * Validation stays strict with chunk staging: one malformed row in the last chunk of a snapshot
 * (a bad value of any family, a payload of the wrong shape, a bad version, key or table) fails the
 * rebuild with `bad_server_response` naming the row, after earlier chunks were already staged, and
 * NOTHING is applied: app rows, row versions, the checkpoint and the pending local edit stay as
 * they were. The next good snapshot then applies normally (the stale stage is cleared first).
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT, n INTEGER, f REAL, bl BLOB, flag INTEGER)';
const TABLES = [{ table: 'users', syncKey: 'id', columns: { flag: 'boolean' as const } }];
type Row = { schema: string; table: unknown; key: unknown; row_version: unknown; payload: Record<string, unknown> };
const good = (id: string, v: number): Row => ({
  schema: 'main',
  table: 'users',
  key: { id },
  row_version: v,
  payload: { id, name: `user ${id}`, n: String(v), f: '1.5', bl: 'AAE=', flag: true },
});

/** Scripts a snapshot session whose chunks are answered by cursor (`max_rows` honoured). */
function scriptSnapshot(s: EngineSetup, id: string, seq: number, snapshotRows: Row[]): void {
  s.server.on('POST', '/sync/snapshot-sessions', {
    status: 200,
    body: { snapshot_id: id, snapshot_bundle_seq: seq, row_count: snapshotRows.length, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
  });
  s.server.always('GET', `/sync/snapshot-sessions/${id}`, (req) => {
    const after = Number(req.query.after_row_ordinal);
    const part = snapshotRows.slice(after, after + Number(req.query.max_rows));
    return {
      status: 200,
      body: {
        snapshot_id: id,
        snapshot_bundle_seq: seq,
        rows: part,
        next_row_ordinal: after + part.length,
        byte_count: 1,
        has_more: after + part.length < snapshotRows.length,
      },
    };
  });
}

function state(s: EngineSetup) {
  return {
    users: rows(s.db, 'SELECT id, name, n, f, hex(bl) AS bl, flag FROM users ORDER BY id'),
    rowState: rows(s.db, 'SELECT table_name, key_json, row_version, deleted FROM _sync_row_state ORDER BY key_json'),
    checkpoint: scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state'),
    dirty: rows(s.db, 'SELECT table_name, key_json, op, payload FROM _sync_dirty_rows'),
  };
}

const BAD: [string, (r: Row) => void, string][] = [
  ['integer with a leading zero', (r) => (r.payload.n = '01'), 'leading_zero'],
  ['integer as a JSON number (legacy)', (r) => (r.payload.n = 5), 'legacy_json_number'],
  ['integer beyond int64', (r) => (r.payload.n = '9223372036854775808'), 'out_of_range'],
  ['non-canonical float', (r) => (r.payload.f = '0.10'), 'noncanonical'],
  ['non-finite float', (r) => (r.payload.f = 'NaN'), 'non_finite'],
  ['malformed base64 BLOB', (r) => (r.payload.bl = 'abc'), 'malformed'],
  ['boolean as text', (r) => (r.payload.flag = 'true'), 'invalid_boolean_bridge'],
  ['number in a TEXT column', (r) => (r.payload.name = 7), 'wrong_type'],
  ['unknown payload column', (r) => (r.payload.zzz = '1'), 'unknown column zzz'],
  ['missing payload column', (r) => delete r.payload.f, 'lacks column f'],
  ['zero row_version', (r) => (r.row_version = 0), 'row_version must be positive'],
  ['key that is not a string', (r) => (r.key = { id: 3 }), 'key lacks string member id'],
  ['table that is not synced', (r) => (r.table = 'ghosts'), 'is not synced'],
];

describe('a malformed row in the last chunk', () => {
  for (const [name, spoil, reason] of BAD) {
    it(name, async () => {
      const s = await openEngine(SCHEMA, TABLES, { snapshotChunkRows: 2, retry: { attempts: 1 } });
      await attachStartedEmpty(s);
      s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
      scriptSnapshot(s, 'first', 4, [good('a', 1), good('b', 2)]);
      await s.engine.hydrate();
      s.db.exec("UPDATE users SET name = 'edited locally' WHERE id = 'a'");
      const before = state(s);
      expect(before.users).toHaveLength(2);
      expect(before.dirty).toHaveLength(1);

      const bad = good('e', 9);
      spoil(bad);
      scriptSnapshot(s, 'second', 8, [good('a', 5), good('c', 6), good('d', 7), bad]);
      const err = await s.engine.hydrate().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'bad_server_response' });
      expect((err as Error).message).toContain('snapshot row 4');
      expect((err as Error).message).toContain(reason);
      // Two chunks were requested and the first was staged before the bad one arrived.
      expect(s.server.requestsTo('GET', '/sync/snapshot-sessions/second').map((r) => r.query.after_row_ordinal)).toEqual(['0', '2']);
      expect(state(s)).toEqual(before);

      scriptSnapshot(s, 'third', 12, [good('a', 10), good('f', 11)]);
      await expect(s.engine.hydrate()).resolves.toMatchObject({ outcome: 'applied_snapshot', checkpoint: 12, rowsApplied: 2 });
      expect(rows(s.db, 'SELECT id, name FROM users ORDER BY id')).toEqual([
        { id: 'a', name: 'edited locally' },
        { id: 'f', name: 'user f' },
      ]);
      expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_snapshot_stage')).toBe(0);
    });
  }
});
