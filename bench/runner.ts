/**
 * Runs the selected benchmark groups in order, prints a table and writes the JSON result file.
 * A group that throws does not stop the run: its metrics are recorded as `failed` with the error,
 * so the JSON always lists every metric and never shows a number that was not measured.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BenchContext } from './lib/context.ts';
import type { BenchGroup } from './lib/context.ts';
import { formatTable } from './lib/metrics.ts';
import type { Metric } from './lib/metrics.ts';
import { writeGroup } from './groups/write.ts';
import { queryGroup } from './groups/query.ts';
import { pushGroup } from './groups/push.ts';
import { pullGroup } from './groups/pull.ts';
import { propagationGroup } from './groups/propagation.ts';
import { serverLoadGroup } from './groups/server-load.ts';
import { referenceGroup } from './groups/reference.ts';
import { sizeGroup } from './groups/size.ts';
import { transactionGroup } from './groups/transaction.ts';

/** Every group, in run order (issue 6 items 1–8). */
export const groups: readonly BenchGroup[] = [
  writeGroup,
  queryGroup,
  pushGroup,
  pullGroup,
  propagationGroup,
  serverLoadGroup,
  referenceGroup,
  sizeGroup,
  transactionGroup,
];

export interface RunOptions {
  quick: boolean;
  groups: string[];
  out?: string;
}

/** Facts about the machine that a reader needs to compare runs. */
function machineNotes(): Record<string, unknown> {
  let chromium = 'unknown';
  try {
    chromium = execFileSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    /* reported as unknown */
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    chromium,
    loadavgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * Between groups: a PostgreSQL CHECKPOINT, so a group does not pay for the previous one's dirty
 * buffers (the pull group leaves a few GB of WAL from its 1M-row sets, which the checkpointer
 * otherwise writes out while `propagation` measures single-row latencies). Every group still runs
 * against the same data. Skipped, with a note, when PostgreSQL is not reachable as the harness's
 * admin user.
 */
async function settlePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.OVERSQLITE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  const t0 = Date.now();
  try {
    await client.connect();
    await client.query('CHECKPOINT');
    console.log(`\n(PostgreSQL CHECKPOINT before the next group: ${Date.now() - t0} ms)`);
  } catch (error) {
    console.log(`\n(no PostgreSQL CHECKPOINT before the next group: ${error instanceof Error ? error.message : String(error)})`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function runBenchmarks(options: RunOptions): Promise<number> {
  const unknown = options.groups.filter((g) => !groups.some((x) => x.name === g));
  if (unknown.length) {
    console.error(`unknown group(s) ${unknown.join(', ')}; groups: ${groups.map((g) => g.name).join(', ')}`);
    return 2;
  }
  const selected = options.groups.length ? groups.filter((g) => options.groups.includes(g.name)) : groups;
  const started = Date.now();
  const machine = machineNotes();
  console.log(`oversqlite bench (${options.quick ? 'quick' : 'full'}): ${selected.map((g) => g.name).join(', ')}`);
  console.log(`machine: ${JSON.stringify(machine)}`);
  const ctx = new BenchContext(options.quick);
  const metrics: Metric[] = [];
  const groupTimes: Record<string, number> = {};
  try {
    for (const [index, group] of selected.entries()) {
      if (index > 0) await settlePostgres();
      const t0 = Date.now();
      console.log(`\n[${group.name}] ${group.title}`);
      let produced: Metric[] = [];
      let failure: string | undefined;
      try {
        produced = await group.run(ctx);
      } catch (error) {
        failure = error instanceof Error ? (error.stack ?? error.message) : String(error);
        console.log(`  FAILED: ${failure}`);
      }
      // Every declared metric appears exactly once: measured, blocked, or failed with the reason.
      for (const { metric, unit } of group.metrics(options.quick)) {
        const found = produced.find((m) => m.metric === metric);
        const reason = failure ? `failed in this run: ${failure.split('\n')[0]}` : 'not produced by the group (bench bug)';
        metrics.push(
          found ?? { group: group.name, metric, unit, value: null, baseline: null, ratio: null, notes: reason, status: 'failed' },
        );
      }
      for (const m of produced) if (!metrics.includes(m)) metrics.push(m);
      groupTimes[group.name] = Math.round((Date.now() - t0) / 100) / 10;
      console.log(`  (${groupTimes[group.name]} s)`);
    }
  } finally {
    await ctx.close();
  }
  const totalSeconds = Math.round((Date.now() - started) / 100) / 10;
  console.log(`\n${formatTable(metrics)}\n\ntotal ${totalSeconds} s`);
  const result = {
    date: new Date(started).toISOString(),
    mode: options.quick ? 'quick' : 'full',
    groups: selected.map((g) => g.name),
    machine: { ...machine, loadavgAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
    totalSeconds,
    groupSeconds: groupTimes,
    metrics,
  };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const out = options.out ?? `${dir}${new Date(started).toISOString().replace(/[:.]/g, '-')}${options.quick ? '-quick' : ''}.json`;
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${out}`);
  return metrics.some((m) => m.status === 'failed') ? 1 : 0;
}
