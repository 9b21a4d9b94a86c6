/**
 * Server share of a push, repeatable: the real sync server (test harness, in this process, over
 * real HTTP) takes N pushes of ROWS rows (create + chunks + commit + committed-rows fetch, the
 * requests a device makes) into `business.tasks` (uuid key, deferrable FK, int8/float8/bool/text/
 * bytea/timestamptz columns), and prints per-phase medians.
 *
 *   npx tsx bench/probes/server-push.ts [--rows 10000] [--runs 7] [--chunk 1000] [--committed 1000] [--trace]
 *
 * Chunk sizes default to the server's advertised `bundle_limits` defaults.
 * `--trace` also prints, for the last run, the time of every SQL statement of each request
 * (client-side wall time of each round trip, so it includes the wire and result decoding).
 * `--table tags` pushes into `business.tags` (text key, no FK, int4/jsonb) instead.
 */
import { randomUUID } from 'node:crypto';
import { startSyncServer } from '../../test/harness/sync-server.ts';
import { RawSyncClient } from '../../test/harness/sync-client.ts';
import type { PushRow } from '../../protocol/wire.ts';
import type { SqlSession } from '../../server/database/types.ts';
import pg from 'pg';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const RUNS = Number(arg('runs', '7'));
const CHUNK_ARG = arg('chunk', '');
const COMMITTED_ARG = arg('committed', '');
const TABLE = arg('table', 'tasks');
const TRACE = process.argv.includes('--trace');
// `--explain`: auto_explain (ANALYZE, nested statements) of every statement over 2 ms of the last
// run's commit, printed from the NOTICEs PostgreSQL sends (PostgreSQL only).
const EXPLAIN = process.argv.includes('--explain');
let explainOn = false;
if (EXPLAIN) {
  const connect = pg.Client.prototype.connect;
  pg.Client.prototype.connect = function (this: pg.Client, ...a: unknown[]) {
    this.on('notice', (m) => {
      if (explainOn) console.log(m.message);
    });
    return (connect as (...x: unknown[]) => unknown).apply(this, a);
  } as typeof connect;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const h = await startSyncServer({ purpose: 'probe_server_push', watch: { enabled: false } });
// The probe's database is dropped however the run ends (an error, Ctrl-C, a closed pipe); a
// second signal, or a close taking over 10 s, exits at once.
let closing = false;
const closeAndExit = (code: number) => {
  if (closing) process.exit(code);
  closing = true;
  setTimeout(() => process.exit(code), 10_000).unref();
  void h.close().finally(() => process.exit(code));
};
const failed = (err: unknown) => {
  // A closed stdout/stderr (EPIPE) cannot be reported to.
  if ((err as NodeJS.ErrnoException)?.code !== 'EPIPE') process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`, () => {});
  closeAndExit(1);
};
process.on('SIGINT', () => closeAndExit(130));
process.on('SIGTERM', () => closeAndExit(143));
process.on('uncaughtException', failed);
process.on('unhandledRejection', failed);
process.stdout.on('error', failed);
process.stderr.on('error', () => closeAndExit(1));
const dev = new RawSyncClient(h.baseUrl, h.tokenFor('probe'), 'probe-device');
await dev.connect(false);
// Chunk sizes a device uses: the server's advertised defaults unless given.
const limits = (await dev.capabilities()).body.bundle_limits;
const CHUNK = Number(CHUNK_ARG || limits.default_rows_per_push_chunk);
const COMMITTED = Number(COMMITTED_ARG || limits.default_rows_per_committed_bundle_chunk);
const USER = randomUUID();
const PROJECT = randomUUID();
let sbid = 1;
await dev.push(sbid++, [
  {
    schema: 'business',
    table: 'users',
    key: { id: USER },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id: USER, name: 'Probe', created_at: '2026-01-01T00:00:00Z' },
  },
  {
    schema: 'business',
    table: 'projects',
    key: { id: PROJECT },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id: PROJECT, owner_id: USER, title: 'Probe', budget: '10.00', archived: '0' },
  },
]);

function rowsOf(n: number): PushRow[] {
  if (TABLE === 'tags') {
    return Array.from({ length: n }, (_, i) => {
      const name = `tag-${i}-${randomUUID()}`;
      return {
        schema: 'business',
        table: 'tags',
        key: { name },
        op: 'INSERT',
        base_row_version: 0,
        payload: { name, color: i % 3 ? 'blue' : null, weight: String(i), meta: { i, tags: ['a', 'b'] } },
      };
    });
  }
  return Array.from({ length: n }, (_, i) => {
    const id = randomUUID();
    return {
      schema: 'business',
      table: 'tasks',
      key: { id },
      op: 'INSERT',
      base_row_version: 0,
      payload: {
        id,
        project_id: PROJECT,
        title: `task ${i} with a realistic title`,
        done: i % 2 ? '1' : '0',
        priority: String(i),
        estimate_hours: String(i / 4),
        attachment: null,
        due_at: '2026-06-01T12:00:00Z',
      },
    };
  });
}

// Statement tracing: wraps the sessions the runtime holds (the runtime calls db.withConnection).
let trace: { sql: string; ms: number }[] | null = null;
const db = h.database;
const withConnection = db.withConnection.bind(db);
db.withConnection = <T>(fn: (s: SqlSession) => Promise<T>) =>
  withConnection(async (s) => {
    if (EXPLAIN) {
      await s.query(`LOAD 'auto_explain'`);
      await s.query(
        `SET auto_explain.log_min_duration = ${explainOn ? 1 : -1}; SET auto_explain.log_analyze = on; SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice; SET auto_explain.log_buffers = on`,
      );
    }
    return fn({
      async query<R>(text: string, params?: readonly unknown[]) {
        const t0 = performance.now();
        try {
          return await s.query<R>(text, params);
        } finally {
          trace?.push({ sql: text.replace(/\s+/g, ' ').slice(0, 110), ms: performance.now() - t0 });
        }
      },
    });
  });

async function timed<T>(label: string, phases: Map<string, number>, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  if (TRACE) trace = [];
  const r = await f();
  const ms = performance.now() - t0;
  phases.set(label, (phases.get(label) ?? 0) + ms);
  if (TRACE && trace) {
    lastTrace.push(`-- ${label}: ${ms.toFixed(1)} ms`);
    for (const t of trace) lastTrace.push(`   ${t.ms.toFixed(1).padStart(7)}  ${t.sql}`);
    if (label === 'commit') {
      trace.forEach((t, i) => {
        const prev = commitMin[i];
        if (!prev || t.ms < prev.ms) commitMin[i] = t;
      });
    }
  }
  trace = null;
  return r;
}

// CPU time (ns) of this process and of the PostgreSQL backends serving this database (schedstat:
// less sensitive than wall time to other work on a shared machine). PostgreSQL on this host only.
import { readFileSync } from 'node:fs';
async function pgBackends(): Promise<number[]> {
  if (h.testDatabase.kind !== 'postgres') return [];
  const r = await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`);
  return r.rows.map((x) => x.pid);
}
function cpuNs(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a backend that ended: its time is lost, a small undercount
    }
  }
  return sum;
}

let lastTrace: string[] = [];
/** Per statement of the commit, its fastest run (statement i of every run is the same statement). */
const commitMin: { sql: string; ms: number }[] = [];
const all = new Map<string, number[]>();
// One unmeasured warm-up run (JIT, plan caches, first-touch of the tables).
for (let run = -1; run < RUNS; run++) {
  const rows = rowsOf(ROWS);
  const phases = new Map<string, number>();
  lastTrace = [];
  const pids = await pgBackends();
  const pg0 = cpuNs(pids);
  const node0 = process.cpuUsage();
  const t0 = performance.now();
  const created = await timed('create', phases, () => dev.createPush(sbid, rows.length));
  if (created.status !== 200) throw new Error(`create: ${JSON.stringify(created.body)}`);
  for (let start = 0; start < rows.length; start += CHUNK) {
    explainOn = EXPLAIN && run === RUNS - 1 && start === 0;
    const r = await timed('chunks', phases, () => dev.chunk(created.body.push_id, start, rows.slice(start, start + CHUNK)));
    explainOn = false;
    if (r.status !== 200) throw new Error(`chunk: ${JSON.stringify(r.body)}`);
  }
  explainOn = EXPLAIN && run === RUNS - 1;
  const committed = await timed('commit', phases, () => dev.commit(created.body.push_id));
  explainOn = false;
  if (committed.status !== 200) throw new Error(`commit: ${JSON.stringify(committed.body)}`);
  sbid++;
  let after: number | null = null;
  let fetched = 0;
  for (;;) {
    const page = await timed('committed_rows', phases, () =>
      dev.committedRows(committed.body.bundle_seq, `?max_rows=${COMMITTED}${after === null ? '' : `&after_row_ordinal=${after}`}`),
    );
    fetched += page.body.rows.length;
    after = page.body.next_row_ordinal;
    if (!page.body.has_more) break;
  }
  if (fetched !== ROWS) throw new Error(`fetched ${fetched}`);
  phases.set('total', performance.now() - t0);
  const node1 = process.cpuUsage(node0);
  phases.set('node_cpu', (node1.user + node1.system) / 1000);
  if (pids.length > 0) phases.set('pg_cpu', (cpuNs(pids) - pg0) / 1e6);
  if (run < 0) continue;
  for (const [k, v] of phases) all.set(k, [...(all.get(k) ?? []), v]);
}
const total = median(all.get('total')!);
console.log(
  `[server-push] ${h.testDatabase.kind} ${TABLE} rows=${ROWS} chunk=${CHUNK} committed=${COMMITTED} runs=${RUNS}: ` +
    [...all].map(([k, v]) => `${k} ${median(v).toFixed(0)}`).join(', ') +
    ` ms (median); ${Math.round(ROWS / (total / 1000))} rows/s\n  min (least disturbed by other work): ` +
    [...all].map(([k, v]) => `${k} ${Math.min(...v).toFixed(0)}`).join(', ') +
    ' ms',
);
if (TRACE) {
  console.log(lastTrace.join('\n'));
  console.log('-- commit statements, fastest of all runs:');
  for (const t of commitMin) console.log(`   ${t.ms.toFixed(1).padStart(7)}  ${t.sql}`);
}
closing = true;
await h.close();
