/**
 * The OPFS write layer (worker/database/opfs-write-gather.ts) on and off in one Chromium page,
 * rotated repeat by repeat: `rows` awaited single-row insert units on a fresh OPFS database,
 * plain and synced (the engine's capture triggers), each with writes gathered (as shipped) and
 * passed through one by one. Prints per variant the median ms per commit, the write calls that
 * reached OPFS per commit (counted below every layer: exact, whatever the load) and the synced ÷
 * plain throughput ratio of the `write` group's single-row insert metric, per mode.
 *
 *   npx tsx bench/probes/opfs-gather-browser.ts [repeats=8] [rows=500]
 */
import { execSync } from 'node:child_process';
import { BenchBrowser } from '../lib/browser.ts';
import { median } from '../lib/stats.ts';

const repeats = Number(process.argv[2] ?? 8);
const rows = Number(process.argv[3] ?? 500);
const variants = [
  { name: 'plain, one write per call', synced: false, gather: false },
  { name: 'synced, one write per call', synced: true, gather: false },
  { name: 'plain, gathered', synced: false, gather: true },
  { name: 'synced, gathered', synced: true, gather: true },
];
console.log(`uptime before: ${execSync('uptime').toString().trim()}`);
const browser = await BenchBrowser.start();
try {
  const page = await browser.openTab();
  await page.evaluate(() => window.bench.spawn('write'));
  const stamp = Date.now().toString(36);
  const ms = variants.map((): number[] => []);
  const writes = variants.map((): number[] => []);
  for (let r = -1; r < repeats; r++) {
    const order = variants.map((_, i) => i);
    for (let k = 0; k < (r + 1) % order.length; k++) order.push(order.shift()!);
    for (const i of order) {
      const v = variants[i]!;
      const sample = (await page.evaluate(({ args }) => window.bench.call('write', 'gatherCost', args), {
        args: [`og-${stamp}-${r}-${i}`, v.synced, v.gather, rows],
      })) as { ms: number; writes: number };
      if (r < 0) continue; // warm-up round
      ms[i]!.push(sample.ms);
      writes[i]!.push(sample.writes);
    }
  }
  await page.evaluate(() => window.bench.terminate('write'));
  for (const [i, v] of variants.entries()) {
    console.log(
      `${v.name.padEnd(27)} ${median(ms[i]!).toFixed(3)} ms a commit, ${median(writes[i]!).toFixed(2)} OPFS writes a commit  (${ms[i]!.map((x) => x.toFixed(2)).join(' ')})`,
    );
  }
  for (const [p, s, what] of [
    [0, 1, 'one write per call'],
    [2, 3, 'gathered'],
  ] as const) {
    // Each repeat ran plain and synced of a mode in the same rotation: the ratio per repeat is what load moves least.
    const ratio = median(ms[s]!.map((t, r) => ms[p]![r]! / t));
    console.log(`${what}: synced ÷ plain single-row insert throughput, median of the repeats' ratios ${ratio.toFixed(3)}`);
  }
} finally {
  await browser.close();
}
console.log(`uptime after: ${execSync('uptime').toString().trim()}`);
process.exit(0);
