/**
 * Probe of capture cost through the database layer (not part of `npm run bench`): the bench
 * `write` group's bulk INSERT and UPDATE units through `LocalDatabase.write` (statement cache,
 * table-access hooks, group commit) on the memory VFS in Node, plain table vs synced (real
 * engine, never attached), interleaved.
 *
 *   node --import tsx bench/probes/capture-facade.ts [rows=10000] [repeats=5]
 */
import { LocalDatabase } from '../../worker/database/local-database.ts';
import type { SqlStatement } from '../../worker/database/types.ts';
import { SyncEngine } from '../../worker/engine/index.ts';
import { median } from '../lib/stats.ts';
import { itemBody, itemKey, itemsSchema, itemsSyncTables, remoteSchema } from '../app/schema.ts';

const rows = Number(process.argv[2] ?? 10_000);
const repeats = Number(process.argv[3] ?? 5);

async function write(db: LocalDatabase, statements: SqlStatement[]): Promise<void> {
  const outcome = await db.write({ statements });
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
}

let n = 0;
async function once(synced: boolean): Promise<{ insert: number; update: number }> {
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
  try {
    const ins = Array.from({ length: rows }, (_, i) => ({
      sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)',
      params: [itemKey('b', i), i, itemBody(i)],
    }));
    const upd = Array.from({ length: rows }, (_, i) => ({
      sql: 'UPDATE items SET n = n + 1, body = ? WHERE id = ?',
      params: [itemBody(i + 1), itemKey('b', i)],
    }));
    let t = performance.now();
    await write(db, ins);
    const insert = performance.now() - t;
    t = performance.now();
    await write(db, upd);
    return { insert, update: performance.now() - t };
  } finally {
    await engine?.close();
    db.close();
  }
}

const plain: Array<{ insert: number; update: number }> = [];
const synced: Array<{ insert: number; update: number }> = [];
for (let r = 0; r < repeats; r++) for (const s of r % 2 ? [true, false] : [false, true]) (s ? synced : plain).push(await once(s));
for (const k of ['insert', 'update'] as const) {
  const p = median(plain.map((x) => x[k]));
  const s = median(synced.map((x) => x[k]));
  console.log(`${k}: plain ${p.toFixed(1)} ms, synced ${s.toFixed(1)} ms (${(s / p).toFixed(2)}x time)`);
}
