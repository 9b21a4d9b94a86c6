/**
 * Group 7 (issue 6 item 7, issue 10 item 7): our sync server side by side with go-oversync's own
 * example server (commit 1f1118f, `examples/nethttp_server`), in the same run, interleaved.
 *
 * - Both servers serve go-oversync's example schema (its 8 tables; rows go to `typed_rows`, about
 *   200 bytes each), each on its own fresh database of the same PostgreSQL, each in its own process
 *   (ours: Node child with the server's shipped defaults; theirs: the Go binary).
 * - One client drives both: our real SyncEngine in this Node process on sqlite-wasm's memory VFS
 *   (`example-device.ts`), with the same options against both (push chunks of 5,000 rows, the
 *   most both servers accept; every other setting from the server's capabilities).
 * - Every metric: value = ours, baseline = go-oversync, ratio = ours / go-oversync. For
 *   throughput a ratio above 1 means ours is faster; for latency (ms) below 1 does.
 * - Interleaving: each repeat runs both servers back to back, the order alternating between
 *   repeats (go, ours, then ours, go, ...), so load from the rest of the machine falls on both.
 * - Warm-up: one untimed push/pull/snapshot cycle per server before the first timed repeat, and
 *   untimed syncs before each load slice, so neither server's first requests are counted.
 *
 * `--quick` measures 10,000 rows only (and shorter load slices).
 * Without go-oversync (or Go) every metric is `blocked` with the instruction to provide it.
 */
import type { BenchGroup, BenchContext } from '../lib/context.ts';
import { blocked, measured } from '../lib/metrics.ts';
import type { Metric } from '../lib/metrics.ts';
import { openExampleDevice } from '../lib/example-device.ts';
import type { ExampleDevice } from '../lib/example-device.ts';
import { locateGoReference, startGoReferenceServer } from '../lib/go-reference-server.ts';
import { startExampleSyncServer } from '../lib/sync-server.ts';
import { median, percentile, perSecond } from '../lib/stats.ts';

const SIZES = [10_000, 100_000];
/** --quick measures only 10,000 rows (go-oversync's 100,000-row push alone takes about a minute here). */
const sizes = (quick: boolean) => (quick ? SIZES.slice(0, 1) : SIZES);
const FLEETS = [50, 200];
const ROWS_PER_SYNC = 5;
/** Push chunk size for both servers: go-oversync's and our `max_rows_per_push_chunk`. */
const PUSH_CHUNK_ROWS = 5_000;

type SideName = 'ours' | 'go';
interface Side {
  readonly name: SideName;
  readonly baseUrl: string;
  tokenFor(userId: string): Promise<string>;
}

const LABEL: Record<SideName, string> = { ours: 'ours', go: 'go-oversync' };

/** Both servers, the order alternating with the repeat number. */
function ordered(sides: Record<SideName, Side>, repeat: number): Side[] {
  return repeat % 2 === 0 ? [sides.go, sides.ours] : [sides.ours, sides.go];
}

let deviceNumber = 0;

async function device(side: Side, user: string): Promise<ExampleDevice> {
  const d = await openExampleDevice(side.baseUrl, () => side.tokenFor(user), { pushChunkRows: PUSH_CHUNK_ROWS });
  try {
    const attached = await d.engine.attach(user);
    if (attached.status !== 'connected') throw new Error(`${LABEL[side.name]}: attach of ${user}: ${JSON.stringify(attached)}`);
  } catch (error) {
    await d.close().catch(() => undefined);
    throw error;
  }
  return d;
}

interface CycleResult {
  pushMs: number;
  pullMs: number;
  snapshotMs: number;
}

/**
 * One repeat on one server: a device attached to an empty user (the puller), a second device that
 * pushes `n` rows (timed until committed), the puller's `pullToStable()` of them (timed), then a
 * fresh device attaching to the user (timed: snapshot download + apply, used_remote_state).
 */
async function cycle(side: Side, n: number, user: string): Promise<CycleResult> {
  const opened: ExampleDevice[] = [];
  try {
    const puller = await device(side, user);
    opened.push(puller);
    const pusher = await device(side, user);
    opened.push(pusher);
    pusher.insert(++deviceNumber, 0, n);
    const t0 = performance.now();
    const pushed = await pusher.engine.pushPending();
    const pushMs = performance.now() - t0;
    if (pushed.outcome !== 'committed' || pushed.rowCount !== n)
      throw new Error(`${LABEL[side.name]}: push of ${n} rows: ${JSON.stringify(pushed)}`);

    const t1 = performance.now();
    const pulled = await puller.engine.pullToStable();
    const pullMs = performance.now() - t1;
    if (pulled.rowsApplied !== n || puller.count() !== n)
      throw new Error(`${LABEL[side.name]}: pull applied ${JSON.stringify(pulled)}, ${puller.count()} local rows; expected ${n}`);

    const fresh = await openExampleDevice(side.baseUrl, () => side.tokenFor(user), { pushChunkRows: PUSH_CHUNK_ROWS });
    opened.push(fresh);
    const t2 = performance.now();
    const hydrated = await fresh.engine.attach(user);
    const snapshotMs = performance.now() - t2;
    if (hydrated.status !== 'connected' || hydrated.outcome !== 'used_remote_state' || hydrated.snapshotRows !== n || fresh.count() !== n) {
      throw new Error(
        `${LABEL[side.name]}: snapshot attach: ${JSON.stringify(hydrated)}, ${fresh.count()} local rows; expected used_remote_state with ${n}`,
      );
    }
    return { pushMs, pullMs, snapshotMs };
  } finally {
    await Promise.all(opened.map((d) => d.close().catch(() => undefined)));
  }
}

interface LoadResult {
  bundles: number;
  seconds: number;
  latencies: number[];
  errors: string[];
}

/** `devices` devices (pairs share a user) looping write 5 rows + sync() for `seconds` against one server. */
async function fleet(side: Side, devices: number, seconds: number, warmupSeconds: number, stamp: string): Promise<LoadResult> {
  const fleetDevices: ExampleDevice[] = [];
  const numbers: number[] = [];
  try {
    // Open and attach in waves of 25 so setup does not itself become the load test.
    for (let start = 0; start < devices; start += 25) {
      const wave = await Promise.all(
        Array.from({ length: Math.min(25, devices - start) }, (_, k) => device(side, `vs-load-${devices}-${stamp}-${(start + k) >> 1}`)),
      );
      fleetDevices.push(...wave);
      numbers.push(...wave.map(() => ++deviceNumber));
    }
    // Warm-up, not timed: the same loop for `warmupSeconds` (at least one sync per device), so
    // neither server is measured cold (ours: V8's optimized code, prepared statements, pool
    // connections; go-oversync: pool growth). One sync per device was not enough: the first
    // timed slice of each server still ran ~1.5x slower than its second.
    let seq = 0;
    const warmUntil = performance.now() + warmupSeconds * 1000;
    await Promise.all(
      fleetDevices.map(async (d, i) => {
        let s = 0;
        do {
          d.insert(numbers[i]!, s, ROWS_PER_SYNC);
          s += ROWS_PER_SYNC;
          await d.engine.sync();
        } while (performance.now() < warmUntil);
        seq = Math.max(seq, s);
      }),
    );
    const latencies: number[] = [];
    const errors: string[] = [];
    let bundles = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      fleetDevices.map(async (d, i) => {
        let next = seq;
        while (performance.now() < deadline) {
          d.insert(numbers[i]!, next, ROWS_PER_SYNC);
          next += ROWS_PER_SYNC;
          const started = performance.now();
          try {
            const result = await d.engine.sync();
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
    await Promise.all(fleetDevices.map((d) => d.close().catch(() => undefined)));
  }
}

function merge(results: LoadResult[]): LoadResult {
  return {
    bundles: results.reduce((s, r) => s + r.bundles, 0),
    seconds: results.reduce((s, r) => s + r.seconds, 0),
    latencies: results.flatMap((r) => r.latencies),
    errors: results.flatMap((r) => r.errors),
  };
}

function metricList(quick: boolean): Array<{ metric: string; unit: string }> {
  return [
    ...sizes(quick).flatMap((n) => [
      { metric: `reference.push.rows_${n}.throughput`, unit: 'rows/s' },
      { metric: `reference.pull.bundle_rows_${n}.throughput`, unit: 'rows/s' },
      { metric: `reference.pull.snapshot_rows_${n}.throughput`, unit: 'rows/s' },
    ]),
    ...FLEETS.flatMap((n) => [
      { metric: `reference.server_load.devices_${n}.bundles_per_s`, unit: 'bundles/s' },
      { metric: `reference.server_load.devices_${n}.sync_p50`, unit: 'ms' },
      { metric: `reference.server_load.devices_${n}.sync_p99`, unit: 'ms' },
      { metric: `reference.server_load.devices_${n}.errors`, unit: 'count' },
    ]),
  ];
}

/** Caches a token per user (ours are valid for an hour; minted in the server child). */
function cachedTokens(mint: (userId: string) => Promise<string>): (userId: string) => Promise<string> {
  const tokens = new Map<string, Promise<string>>();
  return (userId) => {
    let t = tokens.get(userId);
    if (!t) {
      t = mint(userId);
      tokens.set(userId, t);
    }
    return t;
  };
}

const SETUP =
  'same client for both: our SyncEngine in the bench Node process (sqlite-wasm memory VFS), go-oversync example schema, rows in typed_rows (~200 B), push chunks of 5,000 rows; ' +
  'both servers on the same PostgreSQL (separate databases), each in its own process';

export const referenceGroup: BenchGroup = {
  name: 'reference',
  title: "side by side with go-oversync's example server (same client, same PostgreSQL, interleaved; ratio = ours / go-oversync)",
  metrics(quick) {
    return metricList(quick);
  },
  async run(ctx: BenchContext): Promise<Metric[]> {
    const found = await locateGoReference();
    if (found.peerPath === null) {
      const reason = `skipped: ${found.reason}`;
      ctx.log(reason);
      return metricList(ctx.quick).map(({ metric, unit }) => blocked('reference', metric, unit, reason));
    }
    const go = await startGoReferenceServer(found.peerPath);
    let ours: Awaited<ReturnType<typeof startExampleSyncServer>> | undefined;
    try {
      ours = await startExampleSyncServer();
      const sides: Record<SideName, Side> = {
        go: { name: 'go', baseUrl: go.baseUrl, tokenFor: (u) => go.tokenFor(u) },
        ours: { name: 'ours', baseUrl: ours.baseUrl, tokenFor: cachedTokens(ours.tokenFor) },
      };
      ctx.log(`go-oversync example server (${found.peerPath}) at ${go.baseUrl}; ours at ${ours.baseUrl}`);
      const stamp = Date.now().toString(36);
      const metrics: Metric[] = [];

      // One untimed cycle per server before the first timed one, as the load slices below warm up:
      // a server's first push, pull and snapshot pay one-off costs (ours: V8 compiling its request
      // paths; both: PostgreSQL's catalog and plan caches on a fresh database, the pool's first
      // connections), and so does this client's first decode of each server's pages. Timed, they
      // landed on whichever side ran first (session 17: ours' first 10k pull 83k rows/s, the
      // warm repeats 117-138k).
      for (const side of ordered(sides, 0)) {
        const n = sizes(ctx.quick)[0]!;
        const result = await cycle(side, n, `vs-warm-${stamp}-${side.name}`);
        ctx.log(
          `warm-up, ${n} rows, ${LABEL[side.name].padEnd(11)}: bundle pull ${Math.round(perSecond(n, result.pullMs))} rows/s (not counted)`,
        );
      }

      for (const n of sizes(ctx.quick)) {
        // 10,000 rows: 7 repeats (a pull takes ~0.1 s, so one slow moment of the machine moves a
        // repeat by a quarter); a repeat costs ~4 s, most of it go-oversync's push and snapshot.
        const repeats = n >= 100_000 ? 3 : ctx.repeats(2, 7);
        const times: Record<SideName, CycleResult[]> = { ours: [], go: [] };
        for (let r = 0; r < repeats; r++) {
          for (const side of ordered(sides, r)) {
            const result = await cycle(side, n, `vs-${n}-${stamp}-${side.name}-${r}`);
            times[side.name].push(result);
            ctx.log(
              `${n} rows, repeat ${r + 1}/${repeats}, ${LABEL[side.name].padEnd(11)}: push ${Math.round(perSecond(n, result.pushMs))}, ` +
                `bundle pull ${Math.round(perSecond(n, result.pullMs))}, snapshot ${Math.round(perSecond(n, result.snapshotMs))} rows/s`,
            );
          }
        }
        const rate = (side: SideName, key: keyof CycleResult) => times[side].map((t) => perSecond(n, t[key]));
        const how = `median of ${repeats} after one untimed warm-up cycle per server, interleaved; value = ours, baseline = go-oversync 1f1118f example server; ${SETUP}`;
        const count = n.toLocaleString('en-US');
        metrics.push(
          measured(
            'reference',
            `reference.push.rows_${n}.throughput`,
            'rows/s',
            median(rate('ours', 'pushMs')),
            median(rate('go', 'pushMs')),
            `pushPending() of ${count} captured INSERTs until committed; ${how}`,
            rate('ours', 'pushMs'),
            rate('go', 'pushMs'),
          ),
          measured(
            'reference',
            `reference.pull.bundle_rows_${n}.throughput`,
            'rows/s',
            median(rate('ours', 'pullMs')),
            median(rate('go', 'pullMs')),
            `pullToStable() of those ${count} rows (one bundle) by a device attached before they were pushed; ${how}`,
            rate('ours', 'pullMs'),
            rate('go', 'pullMs'),
          ),
          measured(
            'reference',
            `reference.pull.snapshot_rows_${n}.throughput`,
            'rows/s',
            median(rate('ours', 'snapshotMs')),
            median(rate('go', 'snapshotMs')),
            `fresh device attach() to that user (${count} rows) until used_remote_state (snapshot session + chunks + apply); ${how}`,
            rate('ours', 'snapshotMs'),
            rate('go', 'snapshotMs'),
          ),
        );
      }

      // Each fleet runs in slices of `seconds`, the servers alternating slice by slice (ABBA...).
      const seconds = ctx.repeats(4, 10);
      const warmupSeconds = ctx.repeats(1, 3);
      const slices = ctx.repeats(1, 2);
      for (const n of FLEETS) {
        const results: Record<SideName, LoadResult[]> = { ours: [], go: [] };
        for (let r = 0; r < slices * 2; r++) {
          const side = ordered(sides, r >> 1)[r % 2]!;
          const res = await fleet(side, n, seconds, warmupSeconds, `${stamp}-${side.name}-${r}`);
          results[side.name].push(res);
          ctx.log(
            `${n} devices, slice ${r + 1}/${slices * 2}, ${LABEL[side.name].padEnd(11)}: ${res.bundles} bundles in ${res.seconds.toFixed(1)} s = ${(res.bundles / res.seconds).toFixed(1)}/s, ` +
              `sync p50 ${percentile(res.latencies, 50).toFixed(0)} ms, p99 ${percentile(res.latencies, 99).toFixed(0)} ms, errors ${res.errors.length}` +
              (res.errors.length ? ` (first: ${[...new Set(res.errors)].slice(0, 2).join(' | ')})` : ''),
          );
        }
        const o = merge(results.ours);
        const g = merge(results.go);
        const how = `${n} devices (${n / 2} users, 2 devices each), each looping write ${ROWS_PER_SYNC} rows + sync() (push + pull) after ${warmupSeconds} s of the same loop untimed (warm-up); ${slices} slice(s) of ${seconds} s per server, alternating; ${SETUP}`;
        const firstErrors = (r: LoadResult) => [...new Set(r.errors)].slice(0, 2).join(' | ');
        metrics.push(
          measured(
            'reference',
            `reference.server_load.devices_${n}.bundles_per_s`,
            'bundles/s',
            o.bundles / o.seconds,
            g.bundles / g.seconds,
            `committed pushed bundles per second; value = ours, baseline = go-oversync; ${how}`,
          ),
          measured(
            'reference',
            `reference.server_load.devices_${n}.sync_p50`,
            'ms',
            percentile(o.latencies, 50),
            percentile(g.latencies, 50),
            `sync() latency p50 (ours over ${o.latencies.length} syncs, go-oversync over ${g.latencies.length}); lower is better, ratio < 1 = ours faster`,
          ),
          measured(
            'reference',
            `reference.server_load.devices_${n}.sync_p99`,
            'ms',
            percentile(o.latencies, 99),
            percentile(g.latencies, 99),
            'sync() latency p99; lower is better, ratio < 1 = ours faster',
          ),
          measured(
            'reference',
            `reference.server_load.devices_${n}.errors`,
            'count',
            o.errors.length,
            g.errors.length,
            `failed sync() calls (after the engine's own retries); value = ours, baseline = go-oversync; must be 0` +
              (o.errors.length ? `; ours first: ${firstErrors(o)}` : '') +
              (g.errors.length ? `; go-oversync first: ${firstErrors(g)}` : ''),
          ),
        );
      }
      return metrics;
    } finally {
      await ours?.close().catch(() => undefined);
      await go.close().catch(() => undefined);
    }
  },
};
