/**
 * Rows a REPLACE removes through a secondary unique value are captured as deletes by the
 * triggers (worker/engine/capture.ts): written directly for a statement on the raw connection,
 * collected by a write unit of several statements. Both must leave the same `_sync_dirty_rows`,
 * capture order included: seeded random units of replaces (by key, by unique name, both at once),
 * UPDATE OR REPLACE, ignored and refused inserts, updates and deletes go through the group commit
 * on one device and statement by statement on the raw connection of another, and the rows and
 * pending changes are compared after every group; every row gone from the table is pending as a
 * delete or was never known to the server.
 */
import { expect, it } from 'vitest';
import type { Database } from '@sqlite.org/sqlite-wasm';
import { withCaptureSuppressed } from '../../worker/engine/capture.ts';
import { seededRandom } from '../harness/seeded-random.ts';
import { openEngine } from '../engine/support/engine.ts';
import { rows } from '../engine/support/sqlite.ts';
import { DIRTY_ROWS, openSyncedDatabase } from './support/synced-database.ts';
import { closedAfterEach } from './support/closed-after-each.ts';

const MIGRATION = 'CREATE TABLE labels (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL UNIQUE, n INTEGER NOT NULL);';
const TABLES = [{ table: 'labels', syncKey: 'id' }];
const APP_ROWS = 'SELECT id, name, n FROM labels ORDER BY id';

const track = closedAfterEach();

/** k0..k3 known to the server (live at version 2, names n0..n3), written without capture. */
function seedKnownRows(db: Database): void {
  withCaptureSuppressed(db, () => {
    db.exec("INSERT INTO labels VALUES ('k0', 'n0', 0), ('k1', 'n1', 1), ('k2', 'n2', 2), ('k3', 'n3', 3)");
    db.exec(
      'INSERT INTO _sync_row_state(schema_name, table_name, key_json, row_version, deleted) VALUES ' +
        ['k0', 'k1', 'k2', 'k3'].map((k) => `('main', 'labels', '{"id":"${k}"}', 2, 0)`).join(', '),
    );
  });
}

function randomStatement(next: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const k = `k${Math.floor(next() * 7)}`;
  const name = `n${Math.floor(next() * 7)}`;
  const n = Math.floor(next() * 100);
  return pick([
    `INSERT OR REPLACE INTO labels VALUES ('${k}', '${name}', ${n})`,
    `REPLACE INTO labels VALUES ('${k}', '${name}', ${n})`,
    `INSERT OR IGNORE INTO labels VALUES ('${k}', '${name}', ${n})`,
    `UPDATE OR REPLACE labels SET name = '${name}' WHERE id = '${k}'`,
    `UPDATE OR IGNORE labels SET name = '${name}', n = n + 1 WHERE id = '${k}'`,
    `UPDATE labels SET n = n + 1 WHERE id = '${k}'`,
    `DELETE FROM labels WHERE id = '${k}'`,
  ]);
}

for (const seed of Array.from({ length: 20 }, (_, i) => 9400 + i)) {
  it(`seed ${seed}: units and direct capture record the same deletes of replaced rows`, async () => {
    const next = seededRandom(seed);
    const grouped = track(await openSyncedDatabase([MIGRATION], TABLES));
    const direct = track(await openEngine(MIGRATION, TABLES));
    for (const db of [grouped.db.connection, direct.db]) seedKnownRows(db);
    for (let g = 0; g < 12; g++) {
      const units = Array.from({ length: 1 + Math.floor(next() * 3) }, () => {
        const statements = Array.from({ length: 2 + Math.floor(next() * 5) }, () => randomStatement(next));
        // Some units fail on their last statement (a refused duplicate name): nothing of them may stay.
        const fails = next() < 0.15;
        if (fails) statements.push("INSERT INTO labels VALUES ('dup-a', 'dup', 0), ('dup-b', 'dup', 0)");
        return { statements, fails };
      });
      const outcomes = await grouped.writeGroup(units.map((u) => u.statements.map((sql) => ({ sql }))));
      expect(outcomes.map((o) => o.ok)).toEqual(units.map((u) => !u.fails));
      for (const unit of units) if (!unit.fails) for (const sql of unit.statements) direct.db.exec(sql);
      expect(rows(grouped.db.connection, APP_ROWS)).toEqual(rows(direct.db, APP_ROWS));
      expect(rows(grouped.db.connection, DIRTY_ROWS)).toEqual(rows(direct.db, DIRTY_ROWS));
      // A known row that is gone is pending as a delete: none is lost without one.
      const lost = rows(
        direct.db,
        "SELECT rs.key_json FROM _sync_row_state rs WHERE rs.deleted = 0 AND NOT EXISTS (SELECT 1 FROM labels l WHERE json_object('id', l.id) = rs.key_json) " +
          "AND NOT EXISTS (SELECT 1 FROM _sync_dirty_rows d WHERE d.key_json = rs.key_json AND d.op = 'DELETE')",
      );
      expect(lost).toEqual([]);
    }
  });
}
