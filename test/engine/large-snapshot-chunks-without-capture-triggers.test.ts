/**
 * A snapshot chunk of many rows written in place (a fresh device) goes with the connection's
 * triggers switched off when every trigger of the main schema is a capture trigger
 * (`withoutCaptureTriggers`), as a pull's large runs do: nothing observable may change. No
 * hydrated row is captured, the app's next writes are, and the app's own trigger on a synced
 * table still fires for every row.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

/** Rows per chunk, above the count that switches triggers off (1,000); two chunks. */
const CHUNK = 1500;

function scriptSnapshot(s: EngineSetup): void {
  const all = Array.from({ length: 2 * CHUNK }, (_, i) => ({
    schema: 'main',
    table: 'users',
    key: { id: `u${i}` },
    row_version: 1 + (i % 7),
    payload: { id: `u${i}`, name: `n${i}` },
  }));
  s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
  s.server.on('POST', '/sync/snapshot-sessions', {
    status: 200,
    body: { snapshot_id: 'snap', snapshot_bundle_seq: 9, row_count: all.length, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
  });
  s.server.always('GET', '/sync/snapshot-sessions/snap', (req) => {
    const after = Number(req.query.after_row_ordinal);
    return {
      status: 200,
      body: {
        snapshot_id: 'snap',
        snapshot_bundle_seq: 9,
        rows: all.slice(after, after + CHUNK),
        next_row_ordinal: after + CHUNK,
        byte_count: 1,
        has_more: after + CHUNK < all.length,
      },
    };
  });
}

it('captures no hydrated row, then the next local writes', async () => {
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT)', [{ table: 'users', syncKey: 'id' }], {
    snapshotChunkRows: CHUNK,
  });
  await attachStartedEmpty(s);
  scriptSnapshot(s);
  await s.engine.hydrate();
  expect(scalar(s.db, 'SELECT count(*) FROM users')).toBe(2 * CHUNK);
  expect(scalar(s.db, 'SELECT count(*) FROM _sync_row_state')).toBe(2 * CHUNK);
  expect(scalar(s.db, 'SELECT count(*) FROM _sync_dirty_rows')).toBe(0);
  s.db.exec("INSERT INTO users VALUES ('local', 'L')");
  s.db.exec("UPDATE users SET name = 'changed' WHERE id = 'u3'");
  s.db.exec("DELETE FROM users WHERE id = 'u4'");
  expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
    { key_json: '{"id":"local"}', op: 'INSERT' },
    { key_json: '{"id":"u3"}', op: 'UPDATE' },
    { key_json: '{"id":"u4"}', op: 'DELETE' },
  ]);
});

it("fires the app's own trigger for every hydrated row", async () => {
  const s = await openEngine(
    `CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT);
CREATE TABLE audit (what TEXT NOT NULL);
CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (NEW.id); END;`,
    [{ table: 'users', syncKey: 'id' }],
    { snapshotChunkRows: CHUNK },
  );
  await attachStartedEmpty(s);
  scriptSnapshot(s);
  await s.engine.hydrate();
  expect(scalar(s.db, 'SELECT count(*) FROM users')).toBe(2 * CHUNK);
  expect(scalar(s.db, 'SELECT count(DISTINCT what) FROM audit')).toBe(2 * CHUNK);
});

it('stages on a device with a pending row, captures no hydrated row, keeps the pending one, and fires app triggers', async () => {
  const s = await openEngine(
    `CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT);
CREATE TABLE audit (what TEXT NOT NULL);`,
    [{ table: 'users', syncKey: 'id' }],
    { snapshotChunkRows: CHUNK },
  );
  await attachStartedEmpty(s);
  s.db.exec("INSERT INTO users VALUES ('local', 'L')");
  scriptSnapshot(s);
  await s.engine.hydrate();
  expect(scalar(s.db, 'SELECT count(*) FROM users')).toBe(2 * CHUNK + 1);
  expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows')).toEqual([{ key_json: '{"id":"local"}', op: 'INSERT' }]);

  // With an app trigger the staged apply keeps every trigger on.
  s.db.exec('CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (NEW.id); END');
  scriptSnapshot(s);
  await s.engine.hydrate();
  expect(scalar(s.db, "SELECT count(DISTINCT what) FROM audit WHERE what LIKE 'u%'")).toBe(2 * CHUNK);
  s.db.exec("UPDATE users SET name = 'changed' WHERE id = 'u3'");
  expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
    { key_json: '{"id":"local"}', op: 'INSERT' },
    { key_json: '{"id":"u3"}', op: 'UPDATE' },
  ]);
});
