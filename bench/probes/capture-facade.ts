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
import { LocalDatabase } from '../../worker/database/local-database.ts';
import type { SqlStatement } from '../../worker/database/types.ts';
import { captureVariants, compareRotated, probeClock, openCaptureOnlyEngine } from '../lib/capture-variants.ts';
import type { CaptureSample, CaptureVariant } from '../lib/capture-variants.ts';
import { itemBody, itemKey, itemsSchema } from '../app/schema.ts';

const rows = Number(process.argv[2] ?? 10_000);
const repeats = Number(process.argv[3] ?? 5);
const variants = captureVariants(process.env.VARIANTS ?? 'current');
const clock = probeClock();

async function write(db: LocalDatabase, statements: SqlStatement[]): Promise<void> {
  const outcome = await db.write({ statements });
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
}

let n = 0;
async function once(variant: CaptureVariant | null): Promise<CaptureSample> {
  const synced = variant !== null;
  const db = await LocalDatabase.open({ name: `cf-${n++}`, schema: itemsSchema, storage: 'memory' });
  const engine = synced ? await openCaptureOnlyEngine(db.sqlite3, db.connection) : undefined;
  if (variant?.sql !== undefined) db.connection.exec(variant.sql);
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

await compareRotated(variants, repeats, once);
