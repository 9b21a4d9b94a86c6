/**
 * Issue 6 item 2 (and issue 4's benchmark): the round trip of a point query from the main thread
 * of the leader tab (facade → worker), from a follower tab (BroadcastChannel → leader → worker),
 * against the same query inside the worker; and the leader hand-over: how long after the leader
 * tab closes a follower is serving again, against opening a database cold in a fresh tab.
 */
import type { Page } from '@playwright/test';
import type { BenchGroup, BenchContext } from '../lib/context.ts';
import { measured } from '../lib/metrics.ts';
import type { Metric } from '../lib/metrics.ts';
import { median, percentile } from '../lib/stats.ts';

const ROWS = 10_000;

function querySamples(quick: boolean): number {
  return quick ? 300 : 2000;
}

export const queryGroup: BenchGroup = {
  name: 'query',
  title: 'point-query round trip (leader tab, follower tab, inside the worker) and leader hand-over',
  metrics() {
    return ['leader_tab', 'follower_tab', 'in_worker']
      .flatMap((where) => [
        { metric: `query.point.${where}.p50`, unit: 'ms' },
        { metric: `query.point.${where}.p99`, unit: 'ms' },
      ])
      .concat([{ metric: 'query.leader_handover', unit: 'ms' }]);
  },
  async run(ctx: BenchContext): Promise<Metric[]> {
    const browser = await ctx.browser();
    const name = `q-${Date.now().toString(36)}`;
    const leader = await browser.openTab();
    const opened = await leader.evaluate((n) => window.bench.openFacade(n), name);
    if (opened.role !== 'leader') throw new Error(`first tab became ${opened.role}`);
    await leader.evaluate(({ n, rows }) => window.bench.seed(n, rows, 'q'), { n: name, rows: ROWS });
    const follower = await browser.openTab();
    const joined = await follower.evaluate((n) => window.bench.openFacade(n), name);
    if (joined.role !== 'follower') throw new Error(`second tab became ${joined.role}`);

    const isolated = await leader.evaluate(() => globalThis.crossOriginIsolated);
    ctx.log(`page crossOriginIsolated=${isolated} (timer resolution ${isolated ? '5 µs' : '100 µs'})`);
    const samplesPerRound = querySamples(ctx.quick);
    const rounds = ctx.repeats(3, 5);
    const times = { leader_tab: [] as number[], follower_tab: [] as number[], in_worker: [] as number[] };
    const roundP50 = { leader_tab: [] as number[], follower_tab: [] as number[], in_worker: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      const keys = Array.from({ length: samplesPerRound }, () => `q-${String(Math.floor(Math.random() * ROWS)).padStart(7, '0')}`);
      // Interleaved per round so the three paths see the same machine conditions.
      const runs: Array<[keyof typeof times, Page, 'timeFacadeQueries' | 'timeInWorkerQueries']> = [
        ['in_worker', leader, 'timeInWorkerQueries'],
        ['leader_tab', leader, 'timeFacadeQueries'],
        ['follower_tab', follower, 'timeFacadeQueries'],
      ];
      for (const [where, page, method] of runs) {
        const t = await page.evaluate(({ n, keys, method }) => window.bench[method](n, keys), { n: name, keys, method });
        times[where].push(...t);
        roundP50[where].push(median(t));
      }
      ctx.log(
        `round ${r + 1}/${rounds}: p50 in-worker ${median(roundP50.in_worker.slice(-1)).toFixed(3)} ms, leader ${median(roundP50.leader_tab.slice(-1)).toFixed(3)} ms, follower ${median(roundP50.follower_tab.slice(-1)).toFixed(3)} ms`,
      );
    }
    const metrics: Metric[] = [];
    const base50 = percentile(times.in_worker, 50);
    const base99 = percentile(times.in_worker, 99);
    const total = samplesPerRound * rounds;
    for (const where of ['leader_tab', 'follower_tab', 'in_worker'] as const) {
      const isBase = where === 'in_worker';
      const note = isBase
        ? `SELECT by primary key on ${ROWS.toLocaleString('en-US')} rows through WorkerService.query inside the worker (no message hop); ${total} awaited queries in ${rounds} interleaved rounds`
        : `same query, awaited one at a time, from the ${where === 'leader_tab' ? 'leader tab (comlink to its worker)' : 'follower tab (BroadcastChannel to the leader tab, then its worker)'}; baseline = inside the worker; ${total} samples`;
      metrics.push(
        measured('query', `query.point.${where}.p50`, 'ms', percentile(times[where], 50), isBase ? null : base50, note, roundP50[where]),
        measured(
          'query',
          `query.point.${where}.p99`,
          'ms',
          percentile(times[where], 99),
          isBase ? null : base99,
          `p99 of the same ${total} samples`,
        ),
      );
    }

    // Hand-over: close the leader tab; the follower queries until served by the new leader.
    const handovers: number[] = [];
    const coldOpens: number[] = [];
    let current = leader;
    let next = follower;
    for (let r = 0; r < ctx.repeats(2, 5); r++) {
      const standby = await browser.openTab();
      const cold = await standby.evaluate((n) => window.bench.openFacade(n), `${name}-cold-${r}`);
      coldOpens.push(cold.ms);
      await standby.evaluate((n) => window.bench.closeFacade(n), `${name}-cold-${r}`);
      const role = await standby.evaluate((n) => window.bench.openFacade(n), name);
      if (role.role !== 'follower') throw new Error(`standby tab became ${role.role}`);
      const serving = next.evaluate(({ n }) => window.bench.waitServing(n, 'q-0000001'), { n: name });
      const closedAt = Date.now();
      await current.close();
      const servingAt = await serving;
      const newRole = await next.evaluate((n) => window.bench.role(n), name);
      handovers.push(servingAt - closedAt);
      ctx.log(
        `hand-over ${r + 1}: follower serving ${Math.round(servingAt - closedAt)} ms after the leader tab closed (now ${newRole}); cold open ${Math.round(cold.ms)} ms`,
      );
      current = next;
      next = standby;
    }
    await current.close();
    await next.close();
    metrics.push(
      measured(
        'query',
        'query.leader_handover',
        'ms',
        median(handovers),
        median(coldOpens),
        `from page.close() of the leader tab until a follower's point query is answered by the new leader (median of ${handovers.length}); ` +
          'baseline = opening a database cold in a fresh tab (new worker + OPFS open); goal < 1,000 ms',
        handovers,
      ),
    );
    return metrics;
  },
};
