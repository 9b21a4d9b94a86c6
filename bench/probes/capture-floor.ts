/**
 * Probe of what firing a capture trigger costs before its body runs (not part of `npm run bench`):
 * 10,000 single-row UPDATEs of the bench table in one transaction, raw sqlite-wasm in Node (memory,
 * one prepared statement), CPU time, median over rotated repeats. Variants: the plain table; the
 * same with an AFTER UPDATE trigger whose WHEN is false (nothing is captured); and both again
 * without the NOT NULL constraints.
 *
 * A statement that fires triggers is a "multi-write" statement; if it may also abort (a NOT NULL
 * or UNIQUE check with the default ABORT conflict action, which every app table with a primary
 * key has), SQLite opens a statement journal for it inside a transaction: a savepoint per
 * statement and a copy of each page it first writes. That, not the trigger program or its WHEN,
 * is most of what a trigger that captures nothing costs (session 16, BENCHMARKS.md).
 *
 *   node --import tsx bench/probes/capture-floor.ts [repeats=21]
 */
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';

const repeats = Number(process.argv[2] ?? 21);
const ROWS = 10_000;
const NOT_NULL = 'CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL, body TEXT NOT NULL)';
const NULLABLE = 'CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, body TEXT)';
const NO_OP_TRIGGER = 'CREATE TRIGGER tr AFTER UPDATE ON t WHEN 0 BEGIN SELECT 1; END';
const variants: Record<string, string> = {
  'plain (NOT NULL)': NOT_NULL,
  'no-op trigger (NOT NULL: statement journal)': `${NOT_NULL}; ${NO_OP_TRIGGER}`,
  'plain (nullable)': NULLABLE,
  'no-op trigger (nullable: no statement journal)': `${NULLABLE}; ${NO_OP_TRIGGER}`,
};

const sqlite3 = await sqlite3InitModule();
const body = 'x'.repeat(170);
const times: Record<string, number[]> = {};
for (let r = 0; r < repeats; r++) {
  const names = Object.keys(variants);
  for (let k = 0; k < r % names.length; k++) names.push(names.shift()!);
  for (const name of names) {
    const db = new sqlite3.oo1.DB(':memory:');
    try {
      db.exec(variants[name]!);
      db.transaction(() => {
        const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
        for (let i = 0; i < ROWS; i++) insert.bind([`k${i}`, i, body]).stepReset();
        insert.finalize();
      });
      const update = db.prepare('UPDATE t SET n = n + 1, body = ? WHERE id = ?');
      db.exec('BEGIN');
      const t0 = process.cpuUsage().user;
      for (let i = 0; i < ROWS; i++) update.bind([body, `k${i}`]).stepReset();
      (times[name] ??= []).push((process.cpuUsage().user - t0) / 1000);
      db.exec('COMMIT');
      update.finalize();
    } finally {
      db.close();
    }
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [name, xs] of Object.entries(times)) console.log(`${name}: ${med(xs).toFixed(1)} ms CPU for ${ROWS} UPDATEs`);
