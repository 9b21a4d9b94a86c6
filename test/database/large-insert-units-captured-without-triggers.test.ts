/**
 * A write unit of many INSERT statements collects its captures with the capture triggers switched
 * off, through SQLite's preupdate hook (worker/engine/capture.ts): it must leave exactly the
 * `_sync_dirty_rows` the triggers leave, capture order included, for every kind of insert and
 * key (quotes, backslashes, control characters, non-ASCII; BLOB UUID keys as hex); keys only the
 * triggers judge (a malformed UUID key, a BLOB in a TEXT key) run the unit again with them and
 * get their exact answer; an app trigger keeps the triggers on; and the triggers are back on after
 * the unit, whatever its outcome.
 */
import { expect, it } from 'vitest';
import type { Database } from '@sqlite.org/sqlite-wasm';
import type { SqlStatement } from '../../worker/database/types.ts';
import { seededRandom } from '../harness/seeded-random.ts';
import { openEngine } from '../engine/support/engine.ts';
import type { EngineSetup } from '../engine/support/engine.ts';
import { rows, scalar } from '../engine/support/sqlite.ts';
import { DIRTY_ROWS, openSyncedDatabase } from './support/synced-database.ts';
import { closedAfterEach } from './support/closed-after-each.ts';
import type { SyncedDatabase } from './support/synced-database.ts';

const MIGRATION =
  'CREATE TABLE projects (id TEXT PRIMARY KEY NOT NULL, name TEXT UNIQUE, n INTEGER NOT NULL); ' +
  'CREATE TABLE tasks (id TEXT PRIMARY KEY NOT NULL, project_id TEXT REFERENCES projects(id) ON DELETE CASCADE, n INTEGER NOT NULL); ' +
  'CREATE TABLE files (id BLOB PRIMARY KEY NOT NULL, n INTEGER NOT NULL); ' +
  'CREATE TABLE local_notes (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL);';
const TABLES = [
  { table: 'projects', syncKey: 'id' },
  { table: 'tasks', syncKey: 'id' },
  { table: 'files', syncKey: 'id' },
];
const APP_ROWS =
  "SELECT 'projects' AS t, id, n FROM projects UNION ALL SELECT 'tasks', id, n FROM tasks " +
  "UNION ALL SELECT 'files', hex(id), n FROM files UNION ALL SELECT 'local_notes', id, n FROM local_notes ORDER BY 1, 2";
/** Enough statements for a unit to collect without triggers (TRIGGERLESS_MIN_STATEMENTS). */
const LARGE = 1000;

/** The rows of `sql` as arrays of values. */
function values(db: Database, sql: string): unknown[][] {
  return rows(db, sql).map((r) => Object.values(r));
}

const track = closedAfterEach();

async function devices(): Promise<{ grouped: SyncedDatabase; direct: EngineSetup }> {
  const grouped = track(await openSyncedDatabase([MIGRATION], TABLES));
  const direct = track(await openEngine(MIGRATION, TABLES));
  direct.db.exec('PRAGMA foreign_keys = ON');
  return { grouped, direct };
}

/** Keys that stress the JSON encoding of `key_json`. */
const ODD_KEYS = ['plain', 'quote"d', 'back\\slash', 'tab\there', 'nl\nx', 'ctl\u0001\u001f', 'ünï', '日本', '🙂', "it's", '', '{"id":1}'];

function sqlText(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function randomInsert(next: () => number, i: number): SqlStatement {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const key = next() < 0.3 ? pick(ODD_KEYS) : `k${Math.floor(next() * 40)}`;
  const n = Math.floor(next() * 100);
  const uuid = (Math.floor(next() * 16) + 1).toString(16).padStart(32, '0');
  return pick<SqlStatement>([
    { sql: 'INSERT OR IGNORE INTO projects (id, n) VALUES (?, ?)', params: [key, n] },
    { sql: 'INSERT INTO projects (id, n) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET n = excluded.n', params: [key, n] },
    { sql: 'INSERT OR REPLACE INTO projects (id, n) VALUES (?, ?)', params: [key, n] },
    {
      sql: `INSERT OR IGNORE INTO tasks (id, project_id, n) VALUES (?, (SELECT id FROM projects ORDER BY n LIMIT 1), ?)`,
      params: [`t${i % 50}`, n],
    },
    { sql: 'REPLACE INTO tasks (id, project_id, n) VALUES (?, NULL, ?)', params: [`t${i % 50}`, n] },
    { sql: `INSERT OR IGNORE INTO files (id, n) VALUES (unhex(${sqlText(uuid)}), ?)`, params: [n] },
    { sql: 'INSERT OR IGNORE INTO local_notes (id, n) VALUES (?, ?)', params: [key, n] },
  ]);
}

for (const seed of Array.from({ length: 8 }, (_, i) => 8300 + i)) {
  it(`seed ${seed}: large insert units leave the dirty rows the triggers leave`, async () => {
    const next = seededRandom(seed);
    const { grouped, direct } = await devices();
    for (const db of [grouped.db.connection, direct.db]) {
      db.exec("INSERT INTO projects (id, n) VALUES ('k1', 1), ('k2', 2)");
    }
    for (let g = 0; g < 3; g++) {
      const statements = Array.from({ length: LARGE + Math.floor(next() * 200) }, (_, i) => randomInsert(next, i));
      const [outcome] = await grouped.writeGroup([statements]);
      expect(outcome!.ok).toBe(true);
      for (const { sql, params } of statements) direct.db.exec({ sql, bind: params as never });
      expect(rows(grouped.db.connection, APP_ROWS)).toEqual(rows(direct.db, APP_ROWS));
      expect(rows(grouped.db.connection, DIRTY_ROWS)).toEqual(rows(direct.db, DIRTY_ROWS));
    }
    const keys = values(grouped.db.connection, "SELECT key_json FROM _sync_dirty_rows WHERE table_name = 'projects'").map((r) => r[0]);
    expect(keys).toEqual(expect.arrayContaining(['{"id":"quote\\"d"}', '{"id":"ctl\\u0001\\u001f"}']));
  });
}

function inserts(count: number, key: (i: number) => string = (i) => `p${i}`): SqlStatement[] {
  return Array.from({ length: count }, (_, i) => ({ sql: 'INSERT INTO projects (id, n) VALUES (?, ?)', params: [key(i), i] }));
}

it('a malformed UUID key in a large unit fails it as the triggers do, leaving nothing', async () => {
  const { grouped } = await devices();
  const good = Array.from({ length: LARGE }, (_, i) => ({
    sql: 'INSERT INTO files (id, n) VALUES (unhex(?), ?)',
    params: [i.toString(16).padStart(32, '0'), i],
  }));
  const [failed] = await grouped.writeGroup([[...good, { sql: "INSERT INTO files (id, n) VALUES ('not-bytes', 0)" }]]);
  expect(failed!.ok).toBe(false);
  if (!failed!.ok) expect(failed!.error.message).toContain('is a UUID key stored as a 16-byte BLOB');
  expect(scalar(grouped.db.connection, 'SELECT count(*) FROM files')).toBe(0);
  expect(scalar(grouped.db.connection, 'SELECT count(*) FROM _sync_dirty_rows')).toBe(0);
  const [ok] = await grouped.writeGroup([good]);
  expect(ok!.ok).toBe(true);
  expect(values(grouped.db.connection, 'SELECT key_json FROM _sync_dirty_rows ORDER BY dirty_ordinal LIMIT 2')).toEqual([
    ['{"id":"00000000000000000000000000000000"}'],
    ['{"id":"00000000000000000000000000000001"}'],
  ]);
});

it('a BLOB in a TEXT key fails a large unit with the error the triggers give', async () => {
  const { grouped, direct } = await devices();
  const [failed] = await grouped.writeGroup([[...inserts(LARGE), { sql: "INSERT INTO projects (id, n) VALUES (x'00ff', 0)" }]]);
  expect(failed!.ok).toBe(false);
  expect(() => direct.db.exec("INSERT INTO projects (id, n) VALUES (x'00ff', 0)")).toThrow(/JSON cannot hold BLOB values/);
  if (!failed!.ok) expect(failed!.error.message).toMatch(/JSON cannot hold BLOB values/);
  expect(scalar(grouped.db.connection, 'SELECT count(*) FROM projects')).toBe(0);
  expect(scalar(grouped.db.connection, 'SELECT count(*) FROM _sync_dirty_rows')).toBe(0);
});

it('a large unit beside other units of its group: each keeps its own outcome and captures', async () => {
  const { grouped } = await devices();
  const outcomes = await grouped.writeGroup([
    [{ sql: "INSERT INTO projects (id, n) VALUES ('before', 0)" }, { sql: "INSERT INTO tasks (id, n) VALUES ('tb', 0)" }],
    [...inserts(LARGE), { sql: "INSERT INTO files (id, n) VALUES ('bad', 0)" }],
    inserts(LARGE, (i) => `q${i}`),
    [{ sql: "INSERT INTO projects (id, n) VALUES ('after', 0)" }],
  ]);
  expect(outcomes.map((o) => o.ok)).toEqual([true, false, true, true]);
  const dirty = values(grouped.db.connection, 'SELECT key_json FROM _sync_dirty_rows ORDER BY dirty_ordinal').map((r) => r[0]);
  expect(dirty).toEqual(['{"id":"before"}', '{"id":"tb"}', ...Array.from({ length: LARGE }, (_, i) => `{"id":"q${i}"}`), '{"id":"after"}']);
});

it('an app trigger keeps the triggers on: it fires for every row, and capture is the same', async () => {
  const { grouped } = await devices();
  grouped.db.connection.exec(
    'CREATE TRIGGER count_projects AFTER INSERT ON projects BEGIN INSERT INTO local_notes (id, n) VALUES (NEW.id, NEW.n); END',
  );
  const [outcome] = await grouped.writeGroup([inserts(LARGE)]);
  expect(outcome!.ok).toBe(true);
  expect(scalar(grouped.db.connection, 'SELECT count(*) FROM local_notes')).toBe(LARGE);
  expect(values(grouped.db.connection, "SELECT count(*), min(op), max(op) FROM _sync_dirty_rows WHERE table_name = 'projects'")).toEqual([
    [LARGE, 'INSERT', 'INSERT'],
  ]);
});

it('a TEMP trigger still fires, and what it writes to a synced table is captured', async () => {
  const { grouped } = await devices();
  grouped.db.connection.exec(
    "CREATE TEMP TRIGGER task_per_project AFTER INSERT ON main.projects BEGIN INSERT INTO tasks (id, project_id, n) VALUES ('t-' || NEW.id, NEW.id, 0); END",
  );
  const [outcome] = await grouped.writeGroup([inserts(LARGE)]);
  expect(outcome!.ok).toBe(true);
  const dirty = values(grouped.db.connection, 'SELECT table_name, key_json FROM _sync_dirty_rows ORDER BY dirty_ordinal LIMIT 4');
  expect(dirty).toEqual([
    ['projects', '{"id":"p0"}'],
    ['tasks', '{"id":"t-p0"}'],
    ['projects', '{"id":"p1"}'],
    ['tasks', '{"id":"t-p1"}'],
  ]);
  expect(scalar(grouped.db.connection, 'SELECT count(*) FROM _sync_dirty_rows')).toBe(2 * LARGE);
});

it('the triggers are back on after a large unit, committed or failed', async () => {
  const { grouped } = await devices();
  const [failed] = await grouped.writeGroup([[...inserts(LARGE), { sql: 'INSERT INTO projects (id, n) VALUES (?, NULL)', params: ['x'] }]]);
  expect(failed!.ok).toBe(false);
  grouped.db.connection.exec("INSERT INTO projects (id, n) VALUES ('raw-1', 1)");
  const [ok] = await grouped.writeGroup([inserts(LARGE)]);
  expect(ok!.ok).toBe(true);
  grouped.db.connection.exec("INSERT INTO projects (id, n) VALUES ('raw-2', 2)");
  const first = values(grouped.db.connection, 'SELECT key_json FROM _sync_dirty_rows ORDER BY dirty_ordinal LIMIT 1');
  const last = values(grouped.db.connection, 'SELECT key_json FROM _sync_dirty_rows ORDER BY dirty_ordinal DESC LIMIT 1');
  expect([first, last]).toEqual([[['{"id":"raw-1"}']], [['{"id":"raw-2"}']]]);
  expect(scalar(grouped.db.connection, 'SELECT count(*) FROM _sync_dirty_rows')).toBe(LARGE + 2);
});
