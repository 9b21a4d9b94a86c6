/**
 * Probe of capture cost through the database layer (not part of `npm run bench`): the bench
 * `write` group's bulk INSERT and UPDATE units through `LocalDatabase.write` (statement cache,
 * table-access hooks, group commit) on the memory VFS in Node, plain table vs synced (real
 * engine, never attached), interleaved. With VARIANTS, as in capture-cost.ts, each listed SQL
 * file runs after the engine opens (replacing its capture triggers, or anything else).
 *
 *   node --import tsx bench/probes/capture-facade.ts [rows=10000] [repeats=5]
 *   CPU=1 VARIANTS=current,alt.sql node --import tsx bench/probes/capture-facade.ts
 *
 * CPU=1 reports process CPU time instead of wall time (the least load-sensitive number).
 */
import { readFileSync } from 'node:fs';
import { LocalDatabase } from '../../worker/database/local-database.ts';
import type { SqlStatement } from '../../worker/database/types.ts';
import { SyncEngine } from '../../worker/engine/index.ts';
import { median } from '../lib/stats.ts';
import { itemBody, itemKey, itemsSchema, itemsSyncTables, remoteSchema } from '../app/schema.ts';

const rows = Number(process.argv[2] ?? 10_000);
const repeats = Number(process.argv[3] ?? 5);
const variants = (process.env.VARIANTS ?? 'current')
  .split(',')
  .map((v) => ({ name: v, sql: v === 'current' ? undefined : readFileSync(v, 'utf8') }));
const clock = process.env.CPU ? () => process.cpuUsage().user / 1000 : () => performance.now();

async function write(db: LocalDatabase, statements: SqlStatement[]): Promise<void> {
  const outcome = await db.write({ statements });
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
}

let n = 0;
async function once(synced: boolean, variant?: string): Promise<{ insert: number; update: number }> {
  const db = await LocalDatabase.open({ name: `cf-${n++}`, schema: itemsSchema, storage: 'memory' });
  const engine = synced
    ? await SyncEngine.open({
        sqlite3: db.sqlite3,
        db: db.connection,
        remoteSchema,
        tables: itemsSyncTables.map((t) => ({ ...t })),
        serverUrl: 'http://127.0.0.1:9',
        getToken: async () => null,
        autoSync: false,
      })
    : undefined;
  if (synced && variant !== undefined) {
    for (const s of ['ai', 'au', 'auk', 'ad']) db.connection.exec(`DROP TRIGGER IF EXISTS trg_items_${s}`);
    db.connection.exec(variant);
  }
  try {
    const ins = Array.from({ length: rows }, (_, i) => ({
      sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)',
      params: [itemKey('b', i), i, itemBody(i)],
    }));
    const upd = Array.from({ length: rows }, (_, i) => ({
      sql: 'UPDATE items SET n = n + 1, body = ? WHERE id = ?',
      params: [itemBody(i + 1), itemKey('b', i)],
    }));
    let t = clock();
    await write(db, ins);
    const insert = clock() - t;
    t = clock();
    await write(db, upd);
    return { insert, update: clock() - t };
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
