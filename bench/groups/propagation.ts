/**
 * Issue 6 item 5: propagation latency. Two browser devices of one user in two bench workers of one
 * page (OPFS, the real engine, protocol through the page's origin): A writes a row and pushes it;
 * B has auto-sync with the watch stream on and re-runs its query after every commit, as a live
 * query does. Timed on the page's clock from A's write until B's query shows the row. Baseline:
 * A's own write + push round trip in the same samples (the part no watch can save).
 */
import type { BenchGroup, BenchContext } from '../lib/context.ts';
import { measured } from '../lib/metrics.ts';
import type { Metric } from '../lib/metrics.ts';
import { percentile } from '../lib/stats.ts';

export const propagationGroup: BenchGroup = {
  name: 'propagation',
  title: 'write on device A until a query on device B (watch on) shows it',
  metrics() {
    return [{ metric: 'propagation.p50', unit: 'ms' }, { metric: 'propagation.p99', unit: 'ms' }];
  },
  async run(ctx: BenchContext): Promise<Metric[]> {
    const server = await ctx.syncServer();
    const browser = await ctx.browser(true);
    const page = await browser.openTab();
    const stamp = Date.now().toString(36);
    const user = `prop-${stamp}`;
    const token = await server.tokenFor(user);
    const a = `pa-${stamp}`;
    const b = `pb-${stamp}`;
    await page.evaluate(() => { window.bench.spawn('pa'); window.bench.spawn('pb'); });
    try {
      await page.evaluate(async ({ a, b, token, user }) => {
        await window.bench.call('pa', 'openDevice', [a, 'opfs', token, false]);
        await window.bench.call('pb', 'openDevice', [b, 'opfs', token, true]);
        await window.bench.call('pa', 'attach', [a, user]);
        await window.bench.call('pb', 'attach', [b, user]);
      }, { a, b, token, user });
      const samples = ctx.repeats(20, 100);
      const total: number[] = [];
      const push: number[] = [];
      for (let i = -3; i < samples; i++) {
        const out = await page.evaluate(({ a, b, key, i }) => window.bench.propagate('pa', a, 'pb', b, key, i), { a, b, key: `prop-${i + 3}`, i: i + 3 });
        if (i < 0) continue; // warm-up: connections, watch stream, JIT
        total.push(out.totalMs);
        push.push(out.pushMs);
      }
      ctx.log(`${samples} samples: p50 ${percentile(total, 50).toFixed(1)} ms, p99 ${percentile(total, 99).toFixed(1)} ms; A's write+push p50 ${percentile(push, 50).toFixed(1)} ms`);
      const note = `${samples} single-row writes on device A, each pushed at once (pushPending); device B auto-syncs on watch wake-ups (debounce 0) and re-queries after each commit; ` +
        'both OPFS devices in bench workers of one page, server behind the page origin (Vite preview proxy)';
      return [
        measured('propagation', 'propagation.p50', 'ms', percentile(total, 50), percentile(push, 50), `${note}; baseline = A's write + push round trip p50`),
        measured('propagation', 'propagation.p99', 'ms', percentile(total, 99), percentile(push, 99), `same samples; baseline = A's write + push p99`),
      ];
    } finally {
      await page.evaluate(async ({ a, b }) => {
        await window.bench.call('pa', 'closeDevice', [a]).catch(() => undefined);
        await window.bench.call('pb', 'closeDevice', [b]).catch(() => undefined);
        window.bench.terminate('pa');
        window.bench.terminate('pb');
      }, { a, b }).catch(() => undefined);
      await page.close();
    }
  },
};
