/**
 * Benchmark (not a test): round-trip latency of a point query from the leader tab and from a
 * follower tab, next to the same query inside the worker (medians and p99), and how long
 * followers go without service when the leader tab closes. Real Chromium, persistent profile
 * (real disk). Run: node --import tsx e2e/bench/multi-tab-latency.ts
 */
import { chromium } from '@playwright/test';
import type { BrowserContext, Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

process.env.E2E_PORT ??= String(await freePort());
const { createServer } = await import('vite');
const { baseURL, chromiumArgs, chromiumPath } = await import('../browser.ts');
const { notesSchema } = await import('../page-helpers.ts');
await import('../harness-types.ts');

// Without cross-origin isolation, performance.now() is coarsened to 0.1 ms, so the mean over the
// whole run is printed next to the median and p99 of single calls.
function summary(label: string, ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  return `${label.padEnd(22)} median ${at(0.5).toFixed(2)} ms   p99 ${at(0.99).toFixed(2)} ms   mean ${mean.toFixed(3)} ms   (n=${ms.length})`;
}

async function tab(context: BrowserContext, name: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseURL}/`);
  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'ready');
  await page.evaluate(({ name, schema }) => window.harness.open({ name, schema }), { name, schema: notesSchema });
  return page;
}

async function timeQueries(page: Page, name: string, n: number): Promise<number[]> {
  return page.evaluate(
    async ({ name, n }) => {
      const db = window.harness.db(name);
      const timings: number[] = [];
      for (let i = 0; i < n; i++) {
        const started = performance.now();
        await db.query('SELECT * FROM notes WHERE id = ?', [1 + (i % 1000)]);
        timings.push(performance.now() - started);
      }
      return timings;
    },
    { name, n },
  );
}

const vite = await createServer({ configFile: 'e2e/vite.config.ts' });
await vite.listen();
const profile = mkdtempSync(join(tmpdir(), 'oversqlite-bench-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArgs });
try {
  const leader = await tab(context, 'bench');
  const follower = await tab(context, 'bench');
  await leader.evaluate(async () => {
    await window.harness.db('bench').transaction(
      Array.from({ length: 1000 }, (_, i) => ({
        sql: 'INSERT INTO notes (tab, seq, body) VALUES (?, ?, ?)',
        params: ['b', i, `body ${i}`],
      })),
    );
  });
  await timeQueries(leader, 'bench', 100); // warm-up
  await timeQueries(follower, 'bench', 100);
  const inWorker = await leader.evaluate(() =>
    window.harness.db('bench').measureQueryInWorker('SELECT * FROM notes WHERE id = ?', [500], 1000),
  );
  const fromLeader = await timeQueries(leader, 'bench', 1000);
  const fromFollower = await timeQueries(follower, 'bench', 1000);
  console.log('point query (SELECT * FROM notes WHERE id = ?), 1,000 rows, persistent profile:');
  console.log(summary('inside the worker', inWorker));
  console.log(summary('from the leader tab', fromLeader));
  console.log(summary('from a follower tab', fromFollower));

  // Durable write calls per second, 3,000 concurrent single-row writes from each kind of tab.
  for (const [label, page] of [
    ['leader tab', leader],
    ['follower tab', follower],
  ] as const) {
    const { ms } = await page.evaluate(async (label) => {
      const db = window.harness.db('bench');
      const started = performance.now();
      await Promise.all(Array.from({ length: 3000 }, (_, i) => db.exec('INSERT INTO notes (tab, seq) VALUES (?, ?)', [label, i])));
      return { ms: performance.now() - started };
    }, label);
    console.log(`3,000 concurrent writes from the ${label}: ${ms.toFixed(0)} ms = ${Math.round(3000 / (ms / 1000))} durable write calls/s`);
  }
  console.log(`group commit so far: ${JSON.stringify(await leader.evaluate(() => window.harness.db('bench').groupCommitStats()))}`);

  // Hand-over: a follower keeps querying; the leader tab closes; how long until it is served again?
  const gaps: number[] = [];
  let current = leader;
  let waiting = follower;
  for (let trial = 0; trial < 5; trial++) {
    await waiting.evaluate(() => {
      const state = { successes: [] as number[], stop: false };
      (window as unknown as { loop: typeof state }).loop = state;
      void (async () => {
        while (!state.stop) {
          try {
            await window.harness.db('bench').query('SELECT count(*) FROM notes');
            state.successes.push(Date.now());
          } catch {
            /* counted as a gap */
          }
        }
      })();
    });
    await waiting.waitForFunction(() => (window as unknown as { loop: { successes: number[] } }).loop.successes.length > 20);
    await current.close();
    // The old leader may still answer for a moment after close() returns; wait until this tab leads.
    await waiting.waitForFunction(() => window.harness.db('bench').role === 'leader', undefined, { timeout: 10_000 });
    await waiting.waitForFunction(() => (window as unknown as { loop: { successes: number[] } }).loop.successes.length > 0);
    // The interruption is the longest pause between two answered queries of the follower's loop.
    const gap = await waiting.evaluate(async () => {
      const loop = (window as unknown as { loop: { successes: number[]; stop: boolean } }).loop;
      const before = loop.successes.length;
      while (loop.successes.length < before + 5) await new Promise((r) => setTimeout(r, 5));
      loop.stop = true;
      let longest = 0;
      for (let i = 1; i < loop.successes.length; i++) longest = Math.max(longest, loop.successes[i]! - loop.successes[i - 1]!);
      return longest;
    });
    gaps.push(gap);
    current = waiting;
    waiting = await tab(context, 'bench');
  }
  console.log(
    `longest pause in a follower's query loop while the leader tab closed: ${gaps.map((g) => `${g} ms`).join(', ')} (max ${Math.max(...gaps)} ms)`,
  );
  const stats = await current.evaluate(() => window.harness.db('bench').groupCommitStats());
  console.log(`group commit on the last leader: ${JSON.stringify(stats)}`);
} finally {
  await context.close();
  await vite.close();
  rmSync(profile, { recursive: true, force: true });
}
