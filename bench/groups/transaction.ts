/**
 * Interactive transactions against the batch form, from the leader tab and from a follower tab
 * (OPFS, persistent profile): `count` awaited read-then-write units, each either
 * `db.transaction(async (tx) => { read; update; update })` (four round trips to the worker and
 * a durable commit of its own) or the batch `db.transaction([update, update])` (one round trip,
 * group commit). Ratio = interactive / batch ms per unit (what the read in between costs).
 */
import type { Page } from '@playwright/test';
import type { BenchGroup, BenchContext } from '../lib/context.ts';
import { measured } from '../lib/metrics.ts';
import type { Metric } from '../lib/metrics.ts';
import { median, percentile } from '../lib/stats.ts';

const SEEDED = 1_000;

function units(quick: boolean): number {
  return quick ? 100 : 400;
}

export const transactionGroup: BenchGroup = {
  name: 'transaction',
  title: 'interactive transaction vs batch, per awaited unit (leader tab, follower tab)',
  metrics() {
    return ['leader_tab', 'follower_tab'].flatMap((where) => [
      { metric: `transaction.${where}.interactive_vs_batch.p50`, unit: 'ms' },
      { metric: `transaction.${where}.interactive_vs_batch.p95`, unit: 'ms' },
    ]);
  },
  async run(ctx: BenchContext): Promise<Metric[]> {
    const browser = await ctx.browser();
    const name = `tx-${Date.now().toString(36)}`;
    const leader = await browser.openTab();
    if ((await leader.evaluate((n) => window.bench.openFacade(n), name)).role !== 'leader') throw new Error('first tab is not the leader');
    await leader.evaluate(({ n, rows }) => window.bench.seed(n, rows, 'tx'), { n: name, rows: SEEDED });
    const follower = await browser.openTab();
    if ((await follower.evaluate((n) => window.bench.openFacade(n), name)).role !== 'follower')
      throw new Error('second tab is not a follower');

    const count = units(ctx.quick);
    const repeats = ctx.repeats(2, 5);
    const metrics: Metric[] = [];
    for (const [where, page] of [
      ['leader_tab', leader],
      ['follower_tab', follower],
    ] as Array<[string, Page]>) {
      const samples: Record<'interactive' | 'batch', number[][]> = { interactive: [], batch: [] };
      for (let r = 0; r < repeats; r++) {
        // Alternate which form goes first so a slow phase of the machine does not favour one.
        for (const interactive of r % 2 === 0 ? [true, false] : [false, true]) {
          const times = await page.evaluate(
            ({ n, count, interactive, seeded }) => window.bench.transactionUnits(n, count, interactive, 'tx', seeded),
            { n: name, count, interactive, seeded: SEEDED },
          );
          samples[interactive ? 'interactive' : 'batch'].push(times);
        }
        ctx.log(
          `${where} repeat ${r + 1}/${repeats}: interactive p50 ${median(samples.interactive.at(-1)!).toFixed(2)} ms, batch p50 ${median(samples.batch.at(-1)!).toFixed(2)} ms`,
        );
      }
      for (const p of [50, 95]) {
        const value = samples.interactive.map((t) => percentile(t, p));
        const baseline = samples.batch.map((t) => percentile(t, p));
        metrics.push(
          measured(
            'transaction',
            `transaction.${where}.interactive_vs_batch.p${p}`,
            'ms',
            median(value),
            median(baseline),
            `p${p} ms per awaited unit over ${count} units, median of ${repeats} repeats; value = interactive transaction (read, update, update, commit: 4 round trips + its own durable commit); baseline = batch transaction([update, update]) (1 round trip, group commit)`,
            value,
          ),
        );
      }
    }
    await follower.close();
    await leader.close();
    return metrics;
  },
};
