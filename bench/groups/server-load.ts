/**
 * Issue 6 item 6: one server on real PostgreSQL under N concurrent devices. Each device is the
 * real engine in this Node process on sqlite-wasm's memory VFS (the server runs in its own child
 * process); devices come in pairs sharing a user, so every sync pushes a bundle and pulls the
 * partner's. Each device loops for a fixed time: write 5 rows, `sync()` (push + pull), and the
 * sync's latency is recorded. Baseline: one device alone doing the same, in the same run.
 */
import type { BenchGroup, BenchContext } from '../lib/context.ts';
import { measured } from '../lib/metrics.ts';
import type { Metric } from '../lib/metrics.ts';
import { openNodeDevice } from '../lib/node-device.ts';
import type { NodeDevice } from '../lib/node-device.ts';
import { percentile } from '../lib/stats.ts';

const FLEETS = [50, 200];
const ROWS_PER_SYNC = 5;

interface LoadResult {
  bundles: number;
  seconds: number;
  latencies: number[];
  errors: string[];
}

async function runFleet(ctx: BenchContext, devices: number, seconds: number, stamp: string): Promise<LoadResult> {
  const server = await ctx.syncServer();
  const fleet: NodeDevice[] = [];
  try {
    // Open and attach in waves of 25 so setup does not itself become the load test.
    for (let start = 0; start < devices; start += 25) {
      const wave = await Promise.all(
        Array.from({ length: Math.min(25, devices - start) }, async (_, k) => {
          const user = `load-${devices}-${stamp}-${(start + k) >> 1}`;
          const device = await openNodeDevice(server.baseUrl, await server.tokenFor(user));
          const attached = await device.engine.attach(user);
          if (attached.status !== 'connected') throw new Error(`attach: ${JSON.stringify(attached)}`);
          return device;
        }),
      );
      fleet.push(...wave);
    }
    const latencies: number[] = [];
    const errors: string[] = [];
    let bundles = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      fleet.map(async (device, d) => {
        let seq = 0;
        while (performance.now() < deadline) {
          device.insert(`l${d}`, seq, ROWS_PER_SYNC);
          seq += ROWS_PER_SYNC;
          const started = performance.now();
          try {
            const result = await device.engine.sync();
            latencies.push(performance.now() - started);
            if (result.push.outcome === 'committed') bundles++;
          } catch (error) {
            errors.push(error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error));
          }
        }
      }),
    );
    return { bundles, seconds: (performance.now() - t0) / 1000, latencies, errors };
  } finally {
    await Promise.all(fleet.map((d) => d.close().catch(() => undefined)));
  }
}

export const serverLoadGroup: BenchGroup = {
  name: 'server',
  title: 'server load: N devices (real engine, Node, memory VFS) pushing and pulling concurrently against one server on PostgreSQL',
  metrics() {
    return FLEETS.flatMap((n) => [
      { metric: `server_load.devices_${n}.bundles_per_s`, unit: 'bundles/s' },
      { metric: `server_load.devices_${n}.sync_p50`, unit: 'ms' },
      { metric: `server_load.devices_${n}.sync_p99`, unit: 'ms' },
      { metric: `server_load.devices_${n}.errors`, unit: 'count' },
    ]);
  },
  async run(ctx: BenchContext): Promise<Metric[]> {
    const seconds = ctx.repeats(5, 20);
    const stamp = Date.now().toString(36);
    const single = await runFleet(ctx, 1, seconds, `${stamp}-solo`);
    ctx.log(
      `1 device: ${single.bundles} bundles in ${single.seconds.toFixed(1)} s, sync p50 ${percentile(single.latencies, 50).toFixed(1)} ms, errors ${single.errors.length}`,
    );
    const metrics: Metric[] = [];
    for (const n of FLEETS) {
      const r = await runFleet(ctx, n, seconds, stamp);
      const rate = r.bundles / r.seconds;
      ctx.log(
        `${n} devices: ${r.bundles} bundles in ${r.seconds.toFixed(1)} s = ${rate.toFixed(1)}/s, sync p50 ${percentile(r.latencies, 50).toFixed(0)} ms, p99 ${percentile(r.latencies, 99).toFixed(0)} ms, errors ${r.errors.length}`,
      );
      if (r.errors.length) ctx.log(`first errors: ${[...new Set(r.errors)].slice(0, 3).join(' | ')}`);
      const how = `${n} devices (${n / 2} users, 2 devices each), each looping write ${ROWS_PER_SYNC} rows + sync() for ${seconds} s; devices = real engine in the bench Node process on sqlite-wasm memory VFS, server in a child process, 2 cores shared`;
      metrics.push(
        measured(
          'server',
          `server_load.devices_${n}.bundles_per_s`,
          'bundles/s',
          rate,
          single.bundles / single.seconds,
          `${how}; committed pushed bundles per second; baseline = one device alone, same loop`,
        ),
        measured(
          'server',
          `server_load.devices_${n}.sync_p50`,
          'ms',
          percentile(r.latencies, 50),
          percentile(single.latencies, 50),
          `sync() (push + pull) latency p50 over ${r.latencies.length} syncs; baseline = one device alone`,
        ),
        measured(
          'server',
          `server_load.devices_${n}.sync_p99`,
          'ms',
          percentile(r.latencies, 99),
          percentile(single.latencies, 99),
          'sync() latency p99; baseline = one device alone',
        ),
        measured(
          'server',
          `server_load.devices_${n}.errors`,
          'count',
          r.errors.length,
          null,
          `failed sync() calls (after the engine's own retries); must be 0${r.errors.length ? `; first: ${[...new Set(r.errors)].slice(0, 2).join(' | ')}` : ''}`,
        ),
      );
    }
    return metrics;
  },
};
