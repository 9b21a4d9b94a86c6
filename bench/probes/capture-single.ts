/**
 * Probe of capture's CPU on single-row write units (not part of `npm run bench`): awaited
 * single-row INSERT units through `LocalDatabase.write` (statement cache, table-access hooks,
 * group commit flushed in a microtask) on the memory VFS in Node, plain table vs the real
 * engine's capture triggers (never attached), plus each VARIANTS SQL file run after the engine
 * opens in place of its capture triggers of `items` (as in capture-cost.ts), rotated repeat by
 * repeat. Prints the median process CPU time per unit. On OPFS a single-row commit costs about
 * half a millisecond of I/O, so this is the part of a captured commit that is not the extra page.
 *
 *   node --import tsx bench/probes/capture-single.ts [units=3000] [repeats=7]
 *   VARIANTS=alt.sql node --import tsx bench/probes/capture-single.ts
 */
import { LocalDatabase } from '../../worker/database/local-database.ts';
import { captureVariants, openCaptureOnlyEngine } from '../lib/capture-variants.ts';
import type { CaptureVariant } from '../lib/capture-variants.ts';
import { median } from '../lib/stats.ts';
import { itemBody, itemKey, itemsSchema } from '../app/schema.ts';

const units = Number(process.argv[2] ?? 3000);
const repeats = Number(process.argv[3] ?? 7);
const variants: Array<CaptureVariant | null> = [null, { name: 'shipped', sql: undefined }, ...captureVariants(process.env.VARIANTS ?? '')];
const perUnit = variants.map((): number[] => []);

let n = 0;
for (let r = 0; r < repeats; r++) {
  const order = variants.map((_, i) => i);
  if (r % 2) order.reverse();
  for (const i of order) {
    const variant = variants[i]!;
    const db = await LocalDatabase.open({ name: `cs-${n++}`, schema: itemsSchema, storage: 'memory', scheduleFlush: queueMicrotask });
    const engine = variant ? await openCaptureOnlyEngine(db.sqlite3, db.connection) : undefined;
    try {
      if (variant?.sql) db.connection.exec(variant.sql);
      const insert = async (prefix: string, k: number) => {
        const outcome = await db.write({
          statements: [{ sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)', params: [itemKey(prefix, k), k, itemBody(k)] }],
        });
        if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
      };
      for (let k = 0; k < 200; k++) await insert('w', k); // warm: statement cached, pages in place
      const t0 = process.cpuUsage().user;
      for (let k = 0; k < units; k++) await insert('s', k);
      perUnit[i]!.push((process.cpuUsage().user - t0) / units);
    } finally {
      await engine?.close();
      db.close();
    }
  }
}
for (const [i, v] of variants.entries())
  console.log(`${v ? v.name : 'plain'}: ${median(perUnit[i]!).toFixed(1)} us CPU per single-row insert unit`);
