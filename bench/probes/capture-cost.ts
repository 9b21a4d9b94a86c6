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
import { readFileSync } from 'node:fs';
import { SyncEngine } from '../../worker/engine/index.ts';
import { TableAccessMonitor } from '../../worker/database/table-access.ts';
import { median } from '../lib/stats.ts';
import { itemBody, itemKey, itemsSchema, itemsSyncTables, remoteSchema } from '../app/schema.ts';

const rows = Number(process.argv[2] ?? 10_000);
const repeats = Number(process.argv[3] ?? 5);
const sqlite3 = await sqlite3InitModule();
// VARIANTS=a.sql,b.sql: trigger SQL replacing the engine's (``current`` = the engine's own), all
// run interleaved with the plain table in every repeat.
const variants = (process.env.VARIANTS ?? 'current')
  .split(',')
  .map((v) => ({ name: v, sql: v === 'current' ? undefined : readFileSync(v, 'utf8') }));

async function once(synced: boolean, variant?: string): Promise<{ insert: number; update: number }> {
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  for (const m of itemsSchema.migrations) db.exec(m);
  // MONITOR=1: with the hooks LocalDatabase installs on every connection (live-query change tracking).
  if (process.env.MONITOR) new TableAccessMonitor(sqlite3, db);
  const engine = synced
    ? await SyncEngine.open({
        sqlite3,
        db,
        remoteSchema,
        tables: itemsSyncTables.map((t) => ({ ...t })),
        serverUrl: 'http://127.0.0.1:9',
        getToken: async () => 'x',
      })
    : undefined;
  if (synced && variant !== undefined) {
    for (const n of ['ai', 'au', 'auk', 'ad']) db.exec(`DROP TRIGGER IF EXISTS trg_items_${n}`);
    db.exec(variant);
  }
  try {
    const ins = db.prepare('INSERT INTO items (id, n, body) VALUES (?, ?, ?)');
    const upd = db.prepare('UPDATE items SET n = n + 1, body = ? WHERE id = ?');
    // CPU=1: process CPU time instead of wall time (the least load-sensitive number on a shared machine).
    const clock = process.env.CPU ? () => process.cpuUsage().user / 1000 : () => performance.now();
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

type Sample = { insert: number; update: number };
const plain: Sample[] = [];
const synced: Sample[][] = variants.map(() => []);
for (let r = 0; r < repeats; r++) {
  const order = [-1, ...variants.map((_, i) => i)];
  if (r % 2) order.reverse();
  for (const i of order) (i < 0 ? plain : synced[i]!).push(await once(i >= 0, variants[i]?.sql));
}
const m = (xs: Sample[], k: 'insert' | 'update') => median(xs.map((x) => x[k]));
for (const k of ['insert', 'update'] as const) {
  console.log(
    `${k}: plain ${m(plain, k).toFixed(1)} ms; ${variants.map((v, i) => `${v.name} ${m(synced[i]!, k).toFixed(1)} ms (${(m(synced[i]!, k) / m(plain, k)).toFixed(2)}x)`).join('; ')}`,
  );
}
