/**
 * Issue 6 item 5 / issue 16 goal 2: propagation latency. Two devices of one user opened through the
 * real facade (`openDatabase` with `sync`, OPFS, each its own leader worker) in one page, so both
 * ends use one clock: A inserts a row (`db.exec`) and pushes it (`db.sync.pushPending()`); B has
 * auto-sync with the watch stream on and a live query (`db.live`) for the row. Timed from A's write
 * until B's live query delivers the row. Baseline: A's own write + push round trip in the same
 * samples (the part no watch can save).
 *
 * Two pairs of devices (two users), samples alternating between them: the headline pair talks to
 * the sync server directly (loopback, another port than the page: cross-origin with CORS, as an app
 * calls its sync server), the `.proxied` pair through the page's origin (`/sync` proxied by the bench
 * page's Vite preview server: two extra Node hops per request).
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
      { metric: 'propagation.p50.proxied', unit: 'ms' },
      { metric: 'propagation.p99.proxied', unit: 'ms' },
    ];
  },
  async run(ctx: BenchContext): Promise<Metric[]> {
    const server = await ctx.syncServer();
    const browser = await ctx.browser(true);
    const page = await browser.openTab();
    const stamp = Date.now().toString(36);
    // serverUrl undefined: the page's origin (proxied).
    const pairs = [
      { label: 'direct', serverUrl: server.baseUrl as string | undefined },
      { label: 'proxied', serverUrl: undefined },
    ].map(({ label, serverUrl }) => ({
      label,
      serverUrl,
      user: `prop-${label[0]}-${stamp}`,
      a: `pa${label[0]}-${stamp}`,
      b: `pb${label[0]}-${stamp}`,
      total: [] as number[],
      push: [] as number[],
    }));
    try {
      for (const pair of pairs) {
        const token = await server.tokenFor(pair.user);
        await page.evaluate(
          async ({ a, b, token, user, serverUrl }) => {
            await window.bench.openSynced(a, token, false, serverUrl);
            await window.bench.openSynced(b, token, true, serverUrl);
            await window.bench.attachSynced(a, user);
            await window.bench.attachSynced(b, user);
          },
          { a: pair.a, b: pair.b, token, user: pair.user, serverUrl: pair.serverUrl },
        );
      }
      const samples = ctx.repeats(20, 100);
      for (let i = -3; i < samples; i++) {
        // Alternate which pair goes first, so neither always follows the other's background work.
        const order = i % 2 === 0 ? pairs : [pairs[1], pairs[0]];
        for (const pair of order) {
          const out = await page.evaluate(({ a, b, key, i }) => window.bench.propagateFacade(a, b, key, i), {
            a: pair.a,
            b: pair.b,
            key: `prop-${i + 3}`,
            i: i + 3,
          });
          if (i < 0) continue; // warm-up: connections, watch stream, preflights, JIT
          pair.total.push(out.totalMs);
          pair.push.push(out.pushMs);
        }
      }
      const metrics: Metric[] = [];
      for (const { label, total, push } of pairs) {
        ctx.log(
          `${label}: ${samples} samples: p50 ${percentile(total, 50).toFixed(1)} ms, p99 ${percentile(total, 99).toFixed(1)} ms; A's write+push p50 ${percentile(push, 50).toFixed(1)} ms`,
        );
        const suffix = label === 'direct' ? '' : '.proxied';
        const where =
          label === 'direct'
            ? 'devices call the sync server directly (127.0.0.1, another port than the page: cross-origin, CORS)'
            : "devices call the page's origin, /sync proxied to the sync server by the page's Vite preview server";
        const note =
          `${samples} single-row db.exec writes on device A, each pushed at once (db.sync.pushPending); device B auto-syncs on watch wake-ups (debounce 0) and a db.live query shows the row; ` +
          `both devices opened through openDatabase({ sync }) on OPFS in one page (one clock); ${where}; samples alternate with the other pair's`;
        metrics.push(
          measured(
            'propagation',
            `propagation.p50${suffix}`,
            'ms',
            percentile(total, 50),
            percentile(push, 50),
            `${note}; baseline = A's write + push round trip p50`,
          ),
          measured(
            'propagation',
            `propagation.p99${suffix}`,
            'ms',
            percentile(total, 99),
            percentile(push, 99),
            `same samples; baseline = A's write + push p99`,
          ),
        );
      }
      return metrics;
    } finally {
      await page
        .evaluate(
          async (names) => {
            for (const name of names) await window.bench.closeFacade(name).catch(() => undefined);
          },
          pairs.flatMap((p) => [p.a, p.b]),
        )
        .catch(() => undefined);
      await page.close();
    }
  },
};
