/**
 * Probe of capture cost in Chromium on OPFS (not part of `npm run bench`): the `write` group's
 * write-cost repeat (bench worker `writeCost`: 10,000 rows inserted then updated in one write
 * unit, then 1,000 single-row inserts and updates) on a plain table, on the synced table as
 * shipped, and on the synced table with each VARIANTS SQL file run after the engine opens (other
 * capture triggers or layout; see capture-cost.ts; dirty rows are then not counted), all in one
 * page and rotated repeat by repeat,
 * so the slow phases of a loaded machine hit every variant alike. An A/B of two builds in separate
 * runs is far noisier here (plain bulk inserts ranged 150-1,100 ms run to run at load 10-19).
 *
 *   npx tsx bench/probes/capture-browser.ts [repeats=10] [bulkRows=10000] [singleRows=1000]
 *   VARIANTS=old.sql npx tsx bench/probes/capture-browser.ts
 *
 * Prints, per variant and metric, the median over repeats of plain time / synced time (the
 * bench's ratio: 1 = capture is free) and the median synced time. With CPU=1 it also prints the
 * renderer processes' CPU time per call (all four phases; pass singleRows=0 for the bulk units
 * alone; BULK_UPDATE=0 leaves the bulk update out too), the same ratio taken by CPU: on a loaded
 * machine wall times swing 3x between repeats.
 */
import { BenchBrowser } from '../lib/browser.ts';
import { captureVariants } from '../lib/capture-variants.ts';
import type { CaptureVariant } from '../lib/capture-variants.ts';
import { median } from '../lib/stats.ts';
import type { WriteCostSample } from '../app/bench-worker.ts';

const repeats = Number(process.argv[2] ?? 10);
const bulk = Number(process.argv[3] ?? 10_000);
const single = Number(process.argv[4] ?? 1_000);
// As in capture-cost.ts: each variant replaces the engine's capture triggers of `items`.
const variants: CaptureVariant[] = [{ name: 'shipped', sql: undefined }, ...captureVariants(process.env.VARIANTS ?? '')];
const keys = ['insertBulkMs', 'updateBulkMs', 'insertSingleMs', 'updateSingleMs'] as const;

const browser = await BenchBrowser.start();
try {
  const page = await browser.openTab();
  await page.evaluate(() => window.bench.spawn('write'));
  const stamp = Date.now().toString(36);
  const plain: WriteCostSample[] = [];
  const synced: WriteCostSample[][] = variants.map(() => []);
  const plainCpu: number[] = [];
  const syncedCpu: number[][] = variants.map(() => []);
  for (let r = 0; r < repeats; r++) {
    // Rotate the order so no variant always runs right after another.
    const order = [-1, ...variants.map((_, i) => i)];
    for (let k = 0; k < r % order.length; k++) order.push(order.shift()!);
    for (const i of order) {
      const cpu0 = process.env.CPU ? browser.rendererCpuMs() : 0;
      const sample = (await page.evaluate(({ args }) => window.bench.call('write', 'writeCost', args), {
        args: [`cb-${stamp}-${r}-${i}`, i >= 0, bulk, single, i >= 0 ? variants[i]!.sql : undefined, process.env.BULK_UPDATE !== '0'],
      })) as WriteCostSample;
      (i < 0 ? plain : synced[i]!).push(sample);
      if (process.env.CPU) (i < 0 ? plainCpu : syncedCpu[i]!).push(browser.rendererCpuMs() - cpu0);
    }
    console.log(`repeat ${r + 1}/${repeats} done`);
  }
  await page.evaluate(() => window.bench.terminate('write'));
  for (const [i, v] of variants.entries()) {
    const cells = keys.map((k) => {
      const ratio = median(synced[i]!.map((s, r) => plain[r]![k] / s[k]));
      return `${k} ${ratio.toFixed(3)} (synced ${median(synced[i]!.map((s) => s[k])).toFixed(0)} ms)`;
    });
    console.log(`${v.name}: ${cells.join('; ')}`);
  }
  console.log(`plain: ${keys.map((k) => `${k} ${median(plain.map((s) => s[k])).toFixed(0)} ms`).join('; ')}`);
  if (process.env.CPU) {
    for (const [i, v] of variants.entries()) {
      const ratio = median(syncedCpu[i]!.map((c, r) => plainCpu[r]! / c));
      console.log(`${v.name}: renderer CPU ${median(syncedCpu[i]!).toFixed(0)} ms a call, plain / synced ${ratio.toFixed(3)}`);
    }
    console.log(`plain: renderer CPU ${median(plainCpu).toFixed(0)} ms a call`);
  }
} finally {
  await browser.close();
}
