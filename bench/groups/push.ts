/**
 * Issue 6 item 3: push throughput. One device (the real engine, in Node on sqlite-wasm's memory
 * VFS) has N captured local changes; timed from `pushPending()` to its answer `committed` (the
 * server has committed the bundle in PostgreSQL). Baseline: the same N rows inserted straight into
 * a plain PostgreSQL table of the same shape in one transaction (multi-row INSERTs of 1,000), in
 * the same run — the floor of what the server's database can take.
 */
import type { BenchGroup, BenchContext } from '../lib/context.ts';
import { measured } from '../lib/metrics.ts';
import type { Metric } from '../lib/metrics.ts';
import { openNodeDevice } from '../lib/node-device.ts';
import { median, perSecond } from '../lib/stats.ts';

const SIZES = [10_000, 100_000];

export const pushGroup: BenchGroup = {
  name: 'push',
  title: 'push N changed rows from one device to committed on the server (real PostgreSQL)',
  metrics() {
    return SIZES.map((n) => ({ metric: `push.rows_${n}.throughput`, unit: 'rows/s' }));
  },
  async run(ctx: BenchContext): Promise<Metric[]> {
    const server = await ctx.syncServer();
    const stamp = Date.now().toString(36);
    const metrics: Metric[] = [];
    for (const n of SIZES) {
      const repeats = n >= 100_000 ? ctx.repeats(1, 3) : ctx.repeats(2, 5);
      const ours: number[] = [];
      const pg: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const user = `push-${n}-${stamp}-${r}`;
        const device = await openNodeDevice(server.baseUrl, await server.tokenFor(user));
        try {
          const attached = await device.engine.attach(user);
          if (attached.status !== 'connected') throw new Error(`attach: ${JSON.stringify(attached)}`);
          device.insert('p', 0, n);
          const t0 = performance.now();
          const result = await device.engine.pushPending();
          const ms = performance.now() - t0;
          if (result.outcome !== 'committed' || result.rowCount !== n) throw new Error(`push of ${n} rows: ${JSON.stringify(result)}`);
          ours.push(perSecond(n, ms));
        } finally {
          await device.close();
        }
        pg.push(perSecond(n, await server.pgInsert(`pg-${n}-${stamp}-${r}`, n)));
        ctx.log(
          `${n} rows, repeat ${r + 1}/${repeats}: push ${Math.round(ours.at(-1)!)} rows/s, PostgreSQL direct ${Math.round(pg.at(-1)!)} rows/s`,
        );
      }
      metrics.push(
        measured(
          'push',
          `push.rows_${n}.throughput`,
          'rows/s',
          median(ours),
          median(pg),
          `pushPending() of ${n.toLocaleString('en-US')} captured INSERTs (~200 B rows) from a Node device (real engine, sqlite-wasm memory VFS) over HTTP until committed; ` +
            `baseline = the same rows INSERTed straight into a plain PostgreSQL table in one transaction; median of ${repeats}`,
          ours,
        ),
      );
    }
    return metrics;
  },
};
