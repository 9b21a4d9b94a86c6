/**
 * Probe of the local cost of change capture (not part of `npm run bench`): the same 10k INSERTs
 * and then 10k UPDATEs in one transaction, one prepared statement each, on a plain `items` table and
 * on one with the real engine's capture triggers (Node, sqlite-wasm memory VFS). With VARIANTS,
 * each listed SQL file's CREATE TRIGGER statements replace the triggers after the engine opens.
 *
 *   node --import tsx bench/probes/capture-cost.ts [rows=10000] [repeats=5]
 *   VARIANTS=current,alt.sql CLEAN=1 node --import tsx bench/probes/capture-cost.ts
 *
 * NO_CHECK=1 skips the check that every write was captured (for variants that capture less).
 */
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { TableAccessMonitor } from '../../worker/database/table-access.ts';
import { captureVariants, compareRotated, probeClock, openCaptureOnlyEngine } from '../lib/capture-variants.ts';
import type { CaptureSample, CaptureVariant } from '../lib/capture-variants.ts';
import { itemBody, itemKey, itemsSchema } from '../app/schema.ts';

const rows = Number(process.argv[2] ?? 10_000);
const repeats = Number(process.argv[3] ?? 5);
const sqlite3 = await sqlite3InitModule();
// VARIANTS=a.sql,b.sql: trigger SQL replacing the engine's (``current`` = the engine's own), all
// run interleaved with the plain table in every repeat.
const variants = captureVariants(process.env.VARIANTS ?? 'current');

async function once(variant: CaptureVariant | null): Promise<CaptureSample> {
  const synced = variant !== null;
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  for (const m of itemsSchema.migrations) db.exec(m);
  // MONITOR=1: with the hooks LocalDatabase installs on every connection (live-query change tracking).
  if (process.env.MONITOR) new TableAccessMonitor(sqlite3, db);
  const engine = synced ? await openCaptureOnlyEngine(sqlite3, db) : undefined;
  if (variant?.sql !== undefined) db.exec(variant.sql);
  try {
    const ins = db.prepare('INSERT INTO items (id, n, body) VALUES (?, ?, ?)');
    const upd = db.prepare('UPDATE items SET n = n + 1, body = ? WHERE id = ?');
    // CPU=1: process CPU time instead of wall time (the least load-sensitive number on a shared machine).
    const clock = probeClock();
    let t = clock();
    db.exec('BEGIN');
    for (let i = 0; i < rows; i++) ins.bind([itemKey('b', i), i, itemBody(i)]).stepReset();
    db.exec('COMMIT');
    const insert = clock() - t;
    // CLEAN=1: updates of rows that are not pending (as after a push) instead of pending ones.
    if (synced && process.env.CLEAN) db.exec('DELETE FROM _sync_dirty_rows');
    t = clock();
    db.exec('BEGIN');
    for (let i = 0; i < rows; i++) upd.bind([itemBody(i + 1), itemKey('b', i)]).stepReset();
    db.exec('COMMIT');
    const update = clock() - t;
    ins.finalize();
    upd.finalize();
    if (synced && !process.env.NO_CHECK && Number(db.selectValue('SELECT count(*) FROM _sync_dirty_rows')) !== rows)
      throw new Error('capture lost rows');
    return { insert, update };
  } finally {
    await engine?.close();
    db.close();
  }
}

await compareRotated(variants, repeats, once);
