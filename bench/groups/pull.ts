/**
 * Issue 6 item 4: a fresh browser device (the real engine in the bench worker, OPFS, persistent
 * profile, protocol straight to the sync server: loopback, another port than the page, CORS, as
 * the `propagation` group's direct devices) loading N rows, by snapshot (`attach` of a fresh
 * device to a user whose data is on the server: used_remote_state) and by bundle pull
 * (`pullToStable` of a device attached before the data was written), against inserting the same
 * rows straight into sqlite-wasm in the same worker (one prepared statement, one transaction) —
 * the local limit. The server data are server-originated bundles (`writeAs`, 50,000 rows each).
 * Full run also: 1,000,000 rows by snapshot, total time and the longest main-thread task.
 *
 * `BENCH_PULL_ONLY=million` runs only the 1,000,000-row snapshot (also with --quick);
 * `BENCH_PULL_ONLY=snapshot` only the 10,000/100,000-row snapshots and their direct baseline;
 * `BENCH_PULL_ONLY=bundle` only the 10,000/100,000-row bundle pulls and their direct baseline.
 */
import type { Page } from '@playwright/test';
import type { BenchGroup, BenchContext } from '../lib/context.ts';
import { failed, measured } from '../lib/metrics.ts';
import type { Metric } from '../lib/metrics.ts';
import type { SnapshotPhases } from '../app/bench-worker.ts';
import { median, perSecond } from '../lib/stats.ts';

const SIZES = [10_000, 100_000];
const MILLION = 1_000_000;
const ONLY = process.env.BENCH_PULL_ONLY as 'million' | 'snapshot' | 'bundle' | undefined;
if (ONLY !== undefined && ONLY !== 'million' && ONLY !== 'snapshot' && ONLY !== 'bundle')
  throw new Error(`BENCH_PULL_ONLY=${ONLY}: expected million, snapshot or bundle`);
/** The 1M snapshot is abandoned (worker terminated, metrics failed with the reason) after this long. */
const MILLION_LIMIT_MS = 6 * 60_000;

type Timed<T> = { result: T; ms: number };
type AttachOut = { status: string; outcome?: string; snapshotRows?: number };
type PullOut = { outcome: string; rowsApplied: number; bundlesApplied: number };

function call<T>(page: Page, method: string, args: unknown[]): Promise<T> {
  return page.evaluate(({ method, args }) => window.bench.call('pull', method, args), { method, args }) as Promise<T>;
}

export const pullGroup: BenchGroup = {
  name: 'pull',
  title: 'pull and hydrate a fresh browser device (OPFS) by snapshot and by bundle pull',
  metrics(quick) {
    const base =
      ONLY === 'million'
        ? []
        : SIZES.flatMap((n) => [
            ...(ONLY === 'bundle' ? [] : [{ metric: `pull.snapshot_rows_${n}.throughput`, unit: 'rows/s' }]),
            ...(ONLY === 'snapshot' ? [] : [{ metric: `pull.bundle_rows_${n}.throughput`, unit: 'rows/s' }]),
          ]);
    return (quick && ONLY !== 'million') || ONLY === 'snapshot' || ONLY === 'bundle'
      ? base
      : base.concat([
          ...['until_session', 'download_stage', 'final_apply'].map((p) => ({ metric: `pull.snapshot_rows_${MILLION}.${p}`, unit: 's' })),
          { metric: `pull.snapshot_rows_${MILLION}.total`, unit: 's' },
          { metric: `pull.snapshot_rows_${MILLION}.longest_main_thread_task`, unit: 'ms' },
        ]);
  },
  async run(ctx: BenchContext): Promise<Metric[]> {
    // Devices call the sync server directly, not through the page's origin: `vite preview`'s proxy
    // is bench plumbing, and on two shared cores it took 1-7 s of CPU from a 1M hydrate (session 18).
    const server = await ctx.syncServer();
    const browser = await ctx.browser(true);
    const page = await browser.openTab();
    // BENCH_PULL_TRACE=1: the bench worker's console lines, for ad-hoc diagnostics.
    if (process.env.BENCH_PULL_TRACE) page.on('console', (m) => ctx.log(`[console] ${m.text()}`));
    await page.evaluate(() => window.bench.spawn('pull'));
    const stamp = Date.now().toString(36);
    const metrics: Metric[] = [];
    try {
      for (const n of ONLY === 'million' ? [] : SIZES) {
        const repeats = n >= 100_000 ? ctx.repeats(1, 3) : ctx.repeats(2, 5);
        const user = `pull-${n}-${stamp}`;
        const token = await server.tokenFor(user);
        // Bundle-pull devices attach while the user's data set is still empty.
        for (let r = 0; r < (ONLY === 'snapshot' ? 0 : repeats); r++) {
          await call(page, 'openDevice', [`pb-${n}-${stamp}-${r}`, 'opfs', token, false, server.baseUrl]);
          const a = await call<Timed<AttachOut>>(page, 'attach', [`pb-${n}-${stamp}-${r}`, user]);
          if (a.result.status !== 'connected') throw new Error(`attach: ${JSON.stringify(a.result)}`);
        }
        const seedMs = await server.seed(user, n);
        ctx.log(`${n} rows seeded on the server in ${Math.round(seedMs)} ms`);
        const bundle: number[] = [];
        const snapshot: number[] = [];
        const direct: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const pb = `pb-${n}-${stamp}-${r}`;
          let bundlesApplied = 0;
          if (ONLY !== 'snapshot') {
            const pulled = await call<Timed<PullOut>>(page, 'pull', [pb]);
            if (pulled.result.rowsApplied !== n)
              throw new Error(`bundle pull applied ${JSON.stringify(pulled.result)}, expected ${n} rows`);
            await call(page, 'closeDevice', [pb]);
            bundle.push(perSecond(n, pulled.ms));
            bundlesApplied = pulled.result.bundlesApplied;
          }

          if (ONLY !== 'bundle') {
            const ps = `ps-${n}-${stamp}-${r}`;
            await call(page, 'openDevice', [ps, 'opfs', token, false, server.baseUrl]);
            const hydrated = await call<Timed<AttachOut>>(page, 'attach', [ps, user]);
            if (hydrated.result.outcome !== 'used_remote_state' || hydrated.result.snapshotRows !== n) {
              throw new Error(`snapshot attach: ${JSON.stringify(hydrated.result)}, expected used_remote_state with ${n} rows`);
            }
            await call(page, 'closeDevice', [ps]);
            snapshot.push(perSecond(n, hydrated.ms));
          }

          direct.push(perSecond(n, await call<number>(page, 'insertDirect', [`pd-${n}-${stamp}-${r}`, n, 'd'])));
          ctx.log(
            `${n} rows, repeat ${r + 1}/${repeats}: bundle pull ${ONLY === 'snapshot' ? 'skipped' : `${Math.round(bundle.at(-1)!)} rows/s (${bundlesApplied} bundles)`}, ` +
              `snapshot ${ONLY === 'bundle' ? 'skipped' : `${Math.round(snapshot.at(-1)!)} rows/s`}, direct sqlite-wasm insert ${Math.round(direct.at(-1)!)} rows/s`,
          );
        }
        const base = `baseline = the same number of rows INSERTed straight into sqlite-wasm on OPFS in the same worker (one prepared statement, one transaction); median of ${repeats}`;
        if (ONLY !== 'bundle') {
          metrics.push(
            measured(
              'pull',
              `pull.snapshot_rows_${n}.throughput`,
              'rows/s',
              median(snapshot),
              median(direct),
              `fresh OPFS device attach() to a user with ${n.toLocaleString('en-US')} rows (~200 B) on the server until used_remote_state (snapshot download + apply), in the bench worker; ${base}`,
              snapshot,
            ),
          );
        }
        if (ONLY !== 'snapshot') {
          metrics.push(
            measured(
              'pull',
              `pull.bundle_rows_${n}.throughput`,
              'rows/s',
              median(bundle),
              median(direct),
              `pullToStable() of ${n.toLocaleString('en-US')} rows in ${Math.ceil(n / 50_000)} server bundle(s) by a device attached before they were written; ${base}`,
              bundle,
            ),
          );
        }
      }
      if ((!ctx.quick && ONLY !== 'snapshot' && ONLY !== 'bundle') || ONLY === 'million')
        metrics.push(...(await millionBySnapshot(ctx, page, stamp)));
    } finally {
      await page.evaluate(() => window.bench.terminate('pull')).catch(() => undefined);
      await page.close();
    }
    return metrics;
  },
};

/** 1,000,000 rows by snapshot into a fresh device, watching the page's main thread for long tasks. */
async function millionBySnapshot(ctx: BenchContext, page: Page, stamp: string): Promise<Metric[]> {
  const server = await ctx.syncServer();
  const user = `pull-1m-${stamp}`;
  const seedMs = await server.seed(user, MILLION);
  ctx.log(`1,000,000 rows seeded on the server in ${Math.round(seedMs / 1000)} s`);
  await call(page, 'openDevice', [`pm-${stamp}`, 'opfs', await server.tokenFor(user), false, server.baseUrl]);
  await page.evaluate(() => window.bench.startLongTasks());
  const attempt = call<Timed<AttachOut> & { phases: SnapshotPhases | null }>(page, 'attach', [`pm-${stamp}`, user]);
  attempt.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    attempt,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), MILLION_LIMIT_MS);
    }),
  ]);
  clearTimeout(timer);
  const tasks = await page.evaluate(() => window.bench.stopLongTasks());
  if (outcome === 'timeout') {
    await page.evaluate(() => window.bench.terminate('pull'));
    const reason =
      `failed in this run: the 1,000,000-row snapshot had not finished after ${MILLION_LIMIT_MS / 60_000} min (abandoned); ` +
      `main-thread long tasks meanwhile: ${tasks.count}, longest ${Math.round(tasks.longestMs)} ms`;
    ctx.log(reason);
    return [
      ...['until_session', 'download_stage', 'final_apply'].map((p) => failed('pull', `pull.snapshot_rows_${MILLION}.${p}`, 's', reason)),
      failed('pull', `pull.snapshot_rows_${MILLION}.total`, 's', reason),
      failed('pull', `pull.snapshot_rows_${MILLION}.longest_main_thread_task`, 'ms', reason),
    ];
  }
  const hydrated = outcome;
  if (hydrated.result.snapshotRows !== MILLION) throw new Error(`1M snapshot: ${JSON.stringify(hydrated.result)}`);
  await call(page, 'closeDevice', [`pm-${stamp}`]);
  const directMs = await call<number>(page, 'insertDirect', [`pmd-${stamp}`, MILLION, 'd']);
  ctx.log(
    `1M snapshot ${Math.round(hydrated.ms / 1000)} s (direct insert ${Math.round(directMs / 1000)} s); main-thread long tasks: ${tasks.count}, longest ${Math.round(tasks.longestMs)} ms`,
  );
  const p = hydrated.phases;
  if (p)
    ctx.log(
      `1M snapshot phases: until session ${(p.untilSessionMs / 1000).toFixed(1)} s, download + stage ${(p.downloadStageMs / 1000).toFixed(1)} s, final apply ${(p.finalApplyMs / 1000).toFixed(1)} s`,
    );
  const phase = (name: string, ms: number | undefined, what: string): Metric =>
    ms === undefined
      ? failed(
          'pull',
          `pull.snapshot_rows_${MILLION}.${name}`,
          's',
          'failed in this run: the engine sent no hydrating progress events, so the phases are unknown',
        )
      : measured(
          'pull',
          `pull.snapshot_rows_${MILLION}.${name}`,
          's',
          ms / 1000,
          directMs / 1000,
          `${what} of the same 1M-row attach (from the engine's hydrating progress events); baseline = the direct insert`,
        );
  return [
    phase(
      'until_session',
      p?.untilSessionMs,
      "from attach() until the server's snapshot session exists (server builds the frozen snapshot)",
    ),
    phase('download_stage', p?.downloadStageMs, 'from the session until every chunk is downloaded, validated and staged'),
    phase('final_apply', p?.finalApplyMs, 'the final transaction (staged rows into the table and row state) until attach() returns'),
    measured(
      'pull',
      `pull.snapshot_rows_${MILLION}.total`,
      's',
      hydrated.ms / 1000,
      directMs / 1000,
      'fresh OPFS device attach() to a user with 1,000,000 rows (~200 B) on the server (one run); baseline = the same rows INSERTed straight into sqlite-wasm on OPFS in the same worker; goal < 30 s',
    ),
    measured(
      'pull',
      `pull.snapshot_rows_${MILLION}.longest_main_thread_task`,
      'ms',
      tasks.longestMs,
      null,
      `longest PerformanceObserver 'longtask' on the page's main thread while the snapshot ran (${tasks.count} long tasks; 0 = none over 50 ms); goal: none over 50 ms`,
    ),
  ];
}
