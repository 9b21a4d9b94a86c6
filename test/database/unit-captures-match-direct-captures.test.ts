/**
 * A write unit of several statements collects its captured keys and writes them set-based before
 * it ends (worker/engine/capture.ts); everything else is captured by the triggers directly. Both
 * must leave the same `_sync_dirty_rows`, capture order included: seeded random units (inserts, upserts,
 * replaces, updates of one row or many, key changes, deletes, over two tables and keys the server
 * knows live or deleted, with stored payloads pending) go through the group commit on one device
 * and statement by statement on the raw connection of another, and the pending changes and rows
 * are compared after every group. Units that fail leave nothing on the first device and are not
 * run on the second.
 */
import { expect, it } from 'vitest';
import type { Database } from '@sqlite.org/sqlite-wasm';
import { withCaptureSuppressed } from '../../worker/engine/capture.ts';
import { seededRandom } from '../harness/seeded-random.ts';
import { openEngine } from '../engine/support/engine.ts';
import { rows } from '../engine/support/sqlite.ts';
import { DIRTY_ROWS, openSyncedDatabase } from './support/synced-database.ts';

const MIGRATION =
  'CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL); CREATE TABLE tags (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL);';
const TABLES = [
  { table: 'items', syncKey: 'id' },
  { table: 'tags', syncKey: 'id' },
];
const APP_ROWS = "SELECT 'items' AS t, id, n FROM items UNION ALL SELECT 'tags', id, n FROM tags ORDER BY 1, 2";

/** Rows the server already knows (k0..k3 live at version 5, k4 deleted at 6), written without capture. */
function seedKnownRows(db: Database): void {
  withCaptureSuppressed(db, () => {
    for (const t of ['items', 'tags']) {
      db.exec(`INSERT INTO ${t} VALUES ('k0', 0), ('k1', 1), ('k2', 2), ('k3', 3)`);
      db.exec(
        `INSERT INTO _sync_row_state(schema_name, table_name, key_json, row_version, deleted) VALUES ` +
          ['k0', 'k1', 'k2', 'k3'].map((k) => `('main', '${t}', '{"id":"${k}"}', 5, 0)`).join(', ') +
          `, ('main', '${t}', '{"id":"k4"}', 6, 1)`,
      );
    }
  });
}

/** Pending changes with a stored payload (as the engine leaves them), written without capture. */
function storePayloads(db: Database): void {
  withCaptureSuppressed(db, () =>
    db.exec(
      `UPDATE _sync_dirty_rows SET payload = '{"stale":true}' WHERE op <> 'DELETE' AND key_json IN ` +
        '(SELECT key_json FROM (SELECT table_name AS t, key_json, row_number() OVER (ORDER BY dirty_ordinal) AS r FROM _sync_dirty_rows) ' +
        'WHERE t = _sync_dirty_rows.table_name AND r % 2 = 0)',
    ),
  );
}

function randomStatement(next: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const t = pick(['items', 'tags']);
  const k = `k${Math.floor(next() * 9)}`;
  const k2 = `k${Math.floor(next() * 9)}`;
  const n = Math.floor(next() * 100);
  return pick([
    `INSERT OR IGNORE INTO ${t} VALUES ('${k}', ${n})`,
    `INSERT INTO ${t} VALUES ('${k}', ${n}) ON CONFLICT(id) DO UPDATE SET n = excluded.n`,
    `INSERT OR REPLACE INTO ${t} VALUES ('${k}', ${n})`,
    `UPDATE ${t} SET n = n + 1 WHERE id = '${k}'`,
    `UPDATE ${t} SET n = n + 1 WHERE n % 3 = ${n % 3}`,
    `UPDATE OR IGNORE ${t} SET id = '${k2}' WHERE id = '${k}'`,
    `DELETE FROM ${t} WHERE id = '${k}'`,
    `DELETE FROM ${t} WHERE n % 5 = ${n % 5}`,
  ]);
}

for (const seed of Array.from({ length: 30 }, (_, i) => 7100 + i)) {
  it(`seed ${seed}: units through the group commit leave the dirty rows of direct capture`, async () => {
    const next = seededRandom(seed);
    const grouped = await openSyncedDatabase([MIGRATION], TABLES);
    const direct = await openEngine(MIGRATION, TABLES);
    try {
      for (const db of [grouped.db.connection, direct.db]) {
        seedKnownRows(db);
        db.exec("INSERT INTO items VALUES ('k5', 5), ('k6', 6); UPDATE tags SET n = 9 WHERE id = 'k1'; DELETE FROM items WHERE id = 'k2'");
        storePayloads(db);
      }
      for (let g = 0; g < 14; g++) {
        const units = Array.from({ length: 1 + Math.floor(next() * 3) }, () => {
          const statements = Array.from({ length: 1 + Math.floor(next() * 6) }, () => randomStatement(next));
          // Some units fail on their last statement (NOT NULL): nothing of them may stay.
          const fails = next() < 0.15;
          if (fails) statements.push(`INSERT INTO items VALUES ('k${Math.floor(next() * 9)}', NULL)`);
          return { statements, fails };
        });
        const outcomes = await grouped.writeGroup(units.map((u) => u.statements.map((sql) => ({ sql }))));
        expect(outcomes.map((o) => o.ok)).toEqual(units.map((u) => !u.fails));
        for (const unit of units) if (!unit.fails) for (const sql of unit.statements) direct.db.exec(sql);
        expect(rows(grouped.db.connection, APP_ROWS)).toEqual(rows(direct.db, APP_ROWS));
        expect(rows(grouped.db.connection, DIRTY_ROWS)).toEqual(rows(direct.db, DIRTY_ROWS));
        if (g === 6) for (const db of [grouped.db.connection, direct.db]) storePayloads(db);
      }
      expect(rows(direct.db, DIRTY_ROWS).length).toBeGreaterThan(0);
    } finally {
      await grouped.close();
      await direct.engine.close();
    }
  });
}
