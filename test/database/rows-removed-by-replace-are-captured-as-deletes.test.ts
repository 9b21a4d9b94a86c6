/**
 * A REPLACE removes the rows that hold one of the written row's values of a secondary UNIQUE
 * index without firing a delete trigger (SQLite, recursive_triggers off); capture must still
 * record each as a delete, before the written row's change, whichever way the write is
 * captured: by the triggers directly (a statement on the raw connection), collected by a unit of
 * several statements, or through the preupdate hook (a large insert unit). Conflict modes that
 * remove nothing (IGNORE, a refused INSERT) record nothing for the other row.
 */
import { expect, it } from 'vitest';
import type { Database } from '@sqlite.org/sqlite-wasm';
import { withCaptureSuppressed } from '../../worker/engine/capture.ts';
import { openEngine } from '../engine/support/engine.ts';
import { rows } from '../engine/support/sqlite.ts';
import { DIRTY_ROWS, openSyncedDatabase } from './support/synced-database.ts';
import { closedAfterEach } from './support/closed-after-each.ts';

const MIGRATION =
  'CREATE TABLE labels (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL UNIQUE, color TEXT, slot INTEGER, n INTEGER NOT NULL DEFAULT 0); ' +
  'CREATE UNIQUE INDEX labels_color_slot ON labels (color COLLATE NOCASE, slot); ' +
  'CREATE TABLE plain_labels (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL UNIQUE ON CONFLICT REPLACE);';
const TABLES = [
  { table: 'labels', syncKey: 'id' },
  { table: 'plain_labels', syncKey: 'id' },
];
const LARGE = 1000;

const track = closedAfterEach();

/** a (name a, red/1) and b (name b, red/2) known to the server at version 3; c pending. */
function seed(db: Database): void {
  withCaptureSuppressed(db, () => {
    db.exec("INSERT INTO labels (id, name, color, slot) VALUES ('a', 'a', 'red', 1), ('b', 'b', 'red', 2)");
    db.exec("INSERT INTO plain_labels VALUES ('pa', 'x')");
    db.exec(
      "INSERT INTO _sync_row_state(schema_name, table_name, key_json, row_version, deleted) VALUES ('main', 'labels', '{\"id\":\"a\"}', 3, 0), " +
        "('main', 'labels', '{\"id\":\"b\"}', 3, 0), ('main', 'plain_labels', '{\"id\":\"pa\"}', 3, 0)",
    );
  });
  db.exec("INSERT INTO labels (id, name) VALUES ('c', 'c')");
}

const dirty = (db: Database) =>
  rows(db, DIRTY_ROWS).map((r) => `${String(r.table_name)} ${String(r.key_json)} ${String(r.op)} ${String(r.base_row_version)}`);
const live = (db: Database) => rows(db, 'SELECT id FROM labels UNION ALL SELECT id FROM plain_labels ORDER BY 1').map((r) => String(r.id));

/**
 * The same statements captured directly, collected by a unit (one padding insert), and by the hook
 * (padded to a large unit, when they all insert).
 */
async function capturedThreeWays(statements: string[]): Promise<{ direct: string[]; unit: string[]; large: string[]; rows: string[] }> {
  const direct = track(await openEngine(MIGRATION, TABLES));
  seed(direct.db);
  for (const sql of statements) direct.db.exec(sql);
  const ways: string[][] = [];
  for (const padding of [1, LARGE]) {
    const unit = track(await openSyncedDatabase([MIGRATION], TABLES));
    seed(unit.db.connection);
    const pad = Array.from({ length: padding }, (_, i) => ({ sql: `INSERT INTO labels (id, name) VALUES ('pad${i}', 'pad${i}')` }));
    const [outcome] = await unit.writeGroup([[...statements.map((sql) => ({ sql })), ...pad]]);
    expect(outcome!.ok).toBe(true);
    expect(live(unit.db.connection).filter((id) => !id.startsWith('pad'))).toEqual(live(direct.db));
    ways.push(dirty(unit.db.connection).filter((d) => !d.includes('pad')));
  }
  return { direct: dirty(direct.db), unit: ways[0]!, large: ways[1]!, rows: live(direct.db) };
}

it('INSERT OR REPLACE through a unique name: the removed row is a delete, before the new row', async () => {
  const got = await capturedThreeWays(["INSERT OR REPLACE INTO labels (id, name) VALUES ('r', 'a')"]);
  expect(got.rows).toEqual(['b', 'c', 'pa', 'r']);
  const expected = ['labels {"id":"c"} INSERT 0', 'labels {"id":"a"} DELETE 3', 'labels {"id":"r"} INSERT 0'];
  expect(got).toMatchObject({ direct: expected, unit: expected, large: expected });
});

it('REPLACE through a NOCASE composite index and the name at once removes both rows', async () => {
  const got = await capturedThreeWays(["REPLACE INTO labels (id, name, color, slot) VALUES ('r', 'b', 'RED', 1)"]);
  expect(got.rows).toEqual(['c', 'pa', 'r']);
  expect(got.direct).toEqual([
    'labels {"id":"c"} INSERT 0',
    'labels {"id":"a"} DELETE 3',
    'labels {"id":"b"} DELETE 3',
    'labels {"id":"r"} INSERT 0',
  ]);
  expect(got.unit).toEqual(got.direct);
  // The hook records each removal as SQLite makes it (index order, not key order): same set, same place.
  expect([...got.large].sort()).toEqual([...got.direct].sort());
  expect(got.large.at(-1)).toBe('labels {"id":"r"} INSERT 0');
});

it('a constraint declared ON CONFLICT REPLACE removes the row on a plain INSERT', async () => {
  const got = await capturedThreeWays(["INSERT INTO plain_labels VALUES ('pr', 'x')"]);
  expect(got.rows).toEqual(['a', 'b', 'c', 'pr']);
  const expected = ['labels {"id":"c"} INSERT 0', 'plain_labels {"id":"pa"} DELETE 3', 'plain_labels {"id":"pr"} INSERT 0'];
  expect(got).toMatchObject({ direct: expected, unit: expected, large: expected });
});

it('UPDATE OR REPLACE removes the row holding the new value, even when the updated row was pending', async () => {
  const direct = track(await openEngine(MIGRATION, TABLES));
  seed(direct.db);
  direct.db.exec("UPDATE labels SET n = 1 WHERE id = 'b'");
  direct.db.exec("UPDATE OR REPLACE labels SET name = 'a' WHERE id = 'b'");
  expect(live(direct.db)).toEqual(['b', 'c', 'pa']);
  expect(dirty(direct.db)).toEqual(['labels {"id":"c"} INSERT 0', 'labels {"id":"b"} UPDATE 3', 'labels {"id":"a"} DELETE 3']);
  const unit = track(await openSyncedDatabase([MIGRATION], TABLES));
  seed(unit.db.connection);
  const [outcome] = await unit.writeGroup([
    [{ sql: "UPDATE labels SET n = 1 WHERE id = 'b'" }, { sql: "UPDATE OR REPLACE labels SET name = 'a' WHERE id = 'b'" }],
  ]);
  expect(outcome!.ok).toBe(true);
  expect(dirty(unit.db.connection)).toEqual(dirty(direct.db));
});

it('IGNORE and a refused INSERT remove nothing and record nothing for the other row', async () => {
  const got = await capturedThreeWays([
    "INSERT OR IGNORE INTO labels (id, name) VALUES ('r', 'a')",
    "UPDATE labels SET n = 5 WHERE id = 'a'",
  ]);
  expect(got.rows).toEqual(['a', 'b', 'c', 'pa']);
  const expected = ['labels {"id":"c"} INSERT 0', 'labels {"id":"a"} UPDATE 3'];
  expect(got).toMatchObject({ direct: expected, unit: expected, large: expected });

  const direct = track(await openEngine(MIGRATION, TABLES));
  seed(direct.db);
  expect(() => direct.db.exec("INSERT INTO labels (id, name) VALUES ('r', 'a')")).toThrow(/UNIQUE/);
  direct.db.exec("UPDATE labels SET n = 5 WHERE id = 'a'");
  expect(dirty(direct.db)).toEqual(expected);
});
