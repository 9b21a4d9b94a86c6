/**
 * Issue 6 item 5: propagation latency. Two devices of one user opened through the real facade
 * (`openDatabase` with `sync`, OPFS, each its own leader worker, protocol through the page's
 * origin) in one page, so both ends use one clock: A inserts a row (`db.exec`) and pushes it
 * (`db.sync.pushPending()`); B has auto-sync with the watch stream on and a live query
 * (`db.live`) for the row. Timed from A's write until B's live query delivers the row. Baseline:
 * A's own write + push round trip in the same samples (the part no watch can save).
 */
import type { BenchGroup, BenchContext } from '../lib/context.ts';
import { measured } from '../lib/metrics.ts';
import type { Metric } from '../lib/metrics.ts';
import { percentile } from '../lib/stats.ts';

export const propagationGroup: BenchGroup = {
  name: 'propagation',
  title: 'write on device A until a live query on device B (watch on) shows it (facade with sync)',
  metrics() {
    return [
      { metric: 'propagation.p50', unit: 'ms' },
      { metric: 'propagation.p99', unit: 'ms' },
    ];
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
    try {
      await page.evaluate(
        async ({ a, b, token, user }) => {
          await window.bench.openSynced(a, token, false);
          await window.bench.openSynced(b, token, true);
          await window.bench.attachSynced(a, user);
          await window.bench.attachSynced(b, user);
        },
        { a, b, token, user },
      );
      const samples = ctx.repeats(20, 100);
      const total: number[] = [];
      const push: number[] = [];
      for (let i = -3; i < samples; i++) {
        const out = await page.evaluate(({ a, b, key, i }) => window.bench.propagateFacade(a, b, key, i), {
          a,
          b,
          key: `prop-${i + 3}`,
          i: i + 3,
        });
        if (i < 0) continue; // warm-up: connections, watch stream, JIT
        total.push(out.totalMs);
        push.push(out.pushMs);
      }
      ctx.log(
        `${samples} samples: p50 ${percentile(total, 50).toFixed(1)} ms, p99 ${percentile(total, 99).toFixed(1)} ms; A's write+push p50 ${percentile(push, 50).toFixed(1)} ms`,
      );
      const note =
        `${samples} single-row db.exec writes on device A, each pushed at once (db.sync.pushPending); device B auto-syncs on watch wake-ups (debounce 0) and a db.live query shows the row; ` +
        'both devices opened through openDatabase({ sync }) on OPFS in one page (one clock), server behind the page origin (Vite preview proxy)';
      return [
        measured(
          'propagation',
          'propagation.p50',
          'ms',
          percentile(total, 50),
          percentile(push, 50),
          `${note}; baseline = A's write + push round trip p50`,
        ),
        measured(
          'propagation',
          'propagation.p99',
          'ms',
          percentile(total, 99),
          percentile(push, 99),
          `same samples; baseline = A's write + push p99`,
        ),
      ];
    } finally {
      await page
        .evaluate(
          async ({ a, b }) => {
            await window.bench.closeFacade(a).catch(() => undefined);
            await window.bench.closeFacade(b).catch(() => undefined);
          },
          { a, b },
        )
        .catch(() => undefined);
      await page.close();
    }
  },
};
