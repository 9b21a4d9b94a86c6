/**
 * The server's share of the live path (issue 16 goal 2), repeatable: the harness sync server (real
 * HTTP, JWT auth, CORS on as the bench's) serving the bench table, device A pushing one new row
 * at a time in one request, device B holding a watch stream, then B's preflight and pull of the
 * new bundle, as a cross-origin browser device does. Per sample, on one clock (this process):
 *
 * - push → B's frame: A's POST sent until B's watch stream has the `bundle` frame;
 * - push → A's answer: A's POST sent until A has the commit answer;
 * - preflight: `OPTIONS /sync/pull?…` until its answer;
 * - pull: `GET /sync/pull?after_bundle_seq=<B's>` until the page is read.
 *
 *   npx tsx bench/probes/live-server-path.ts [--samples 200] [--server-process] [--trace]
 *
 * The server runs in this process unless `--server-process` (the bench's own child process,
 * bench/lib/sync-server-process.ts, so the probe's own HTTP clients do not share its event loop).
 * `--trace` (in-process only) prints the median wall time of each SQL round trip of the push.
 * In-process, it also prints the CPU time per sample (push, frame, preflight and pull) of this
 * process (server and clients) and of the test database's PostgreSQL backends (from /proc), which
 * a loaded machine disturbs far less than wall times.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { startSyncServer } from '../../test/harness/sync-server.ts';
import { SseReader } from '../../test/harness/sse-reader.ts';
import type { SqlDatabase, SqlSession } from '../../server/database/types.ts';
import { BENCH_PG_SCHEMA_SQL, BENCH_TABLES } from '../lib/bench-schema.ts';
import { startBenchSyncServer } from '../lib/sync-server.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const SAMPLES = Number(arg('samples', '200'));
const TRACE = process.argv.includes('--trace');
const IN_CHILD = process.argv.includes('--server-process');

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

let tracing: { sql: string; ms: number }[] | null = null;
/** Server-side times of the current push (in-process `--trace` only). */
let marks: { request?: number; txAsked?: number; txHeld?: number; txDone?: number; finish?: number } = {};
function traced(s: SqlSession): SqlSession {
  return {
    async query<R>(text: string, params?: readonly unknown[]) {
      const t0 = performance.now();
      try {
        return await s.query<R>(text, params);
      } finally {
        tracing?.push({ sql: text.replace(/\s+/g, ' ').trim().slice(0, 90), ms: performance.now() - t0 });
      }
    },
  };
}
function wrap(db: SqlDatabase): SqlDatabase {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'withConnection')
        return <T>(fn: (s: SqlSession) => Promise<T>) => {
          marks.txAsked ??= performance.now();
          return target.withConnection((s) => {
            marks.txHeld ??= performance.now();
            return fn(traced(s)).finally(() => (marks.txDone ??= performance.now()));
          });
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** utime + stime (ms) of every PostgreSQL backend connected to `database`, by pid. */
let backendsOf: (() => Promise<Map<number, number>>) | null = null;
const ticksMs = (pid: number): number | null => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // fields 14 and 15, USER_HZ 100
  } catch {
    return null;
  }
};

let baseUrl: string;
let tokenFor: (user: string) => Promise<string>;
let close: () => Promise<void>;
if (IN_CHILD) {
  const s = await startBenchSyncServer();
  baseUrl = s.baseUrl;
  tokenFor = (u) => s.tokenFor(u);
  close = () => s.close();
} else {
  const h = await startSyncServer({
    purpose: 'probe_live_server_path',
    schemaSql: BENCH_PG_SCHEMA_SQL,
    tables: BENCH_TABLES,
    cors: true,
    wrapDatabase: TRACE ? wrap : undefined,
  });
  baseUrl = h.baseUrl;
  tokenFor = async (u) => h.tokenFor(u);
  const dbName = new URL(h.testDatabase.connectionString!).pathname.slice(1);
  backendsOf = async () => {
    const r = await h.database.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName]);
    const m = new Map<number, number>();
    for (const { pid } of r.rows) {
      const t = ticksMs(pid);
      if (t !== null) m.set(pid, t);
    }
    return m;
  };
  h.http.prependListener('request', (req, res) => {
    if (req.method !== 'POST' || !req.url?.startsWith('/sync/push-sessions')) return;
    marks.request = performance.now();
    res.once('finish', () => (marks.finish = performance.now()));
  });
  close = () => h.close();
}

const user = `live-${randomUUID()}`;
const token = await tokenFor(user);
const headersOf = (source: string, json = false): Record<string, string> => ({
  Authorization: `Bearer ${token}`,
  'Oversync-Source-ID': source,
  Origin: 'http://127.0.0.1:1',
  ...(json ? { 'Content-Type': 'application/json' } : {}),
});
const A = randomUUID();
const B = randomUUID();
for (const s of [A, B]) {
  const r = await fetch(`${baseUrl}/sync/connect`, {
    method: 'POST',
    headers: headersOf(s, true),
    body: JSON.stringify({ has_local_pending_rows: false }),
  });
  if (r.status !== 200) throw new Error(`connect: ${r.status} ${await r.text()}`);
}
const watch = await fetch(`${baseUrl}/sync/watch?after_bundle_seq=0`, { headers: headersOf(B) });
if (watch.status !== 200) throw new Error(`watch: ${watch.status}`);
const sse = new SseReader(watch.body!.getReader());

const body = (n: number) => `row ${n} `.padEnd(170, 'abcdefghijklmnopqrstuvwxyz0123456789');
const toFrame: number[] = [];
const toAnswer: number[] = [];
const preflight: number[] = [];
const pull: number[] = [];
const phases = new Map<string, number[]>();
const statements = new Map<number, { sql: string; ms: number[] }>();
let bSeq = 0;
const WARMUP = 20;
let cpu0: { node: NodeJS.CpuUsage; pg: Map<number, number> } | null = null;
for (let n = 1; n <= SAMPLES + WARMUP; n++) {
  if (n === WARMUP + 1 && backendsOf) cpu0 = { node: process.cpuUsage(), pg: await backendsOf() };
  const frame = sse.nextBundle();
  tracing = [];
  marks = {};
  const t0 = performance.now();
  let tFrame = 0;
  const framed = frame.then((e) => {
    tFrame = performance.now();
    return e;
  });
  const res = await fetch(`${baseUrl}/sync/push-sessions`, {
    method: 'POST',
    headers: headersOf(A, true),
    body: JSON.stringify({
      source_bundle_id: n,
      planned_row_count: 1,
      canonical_request_hash: '0'.repeat(64),
      rows: [
        {
          schema: 'bench',
          table: 'items',
          key: { id: `k${n}` },
          op: 'INSERT',
          base_row_version: 0,
          payload: { id: `k${n}`, n: String(n), body: body(n) },
        },
      ],
      commit: true,
    }),
  });
  const answer = await res.json();
  const tAnswer = performance.now();
  if (res.status !== 200) throw new Error(`push: ${res.status} ${JSON.stringify(answer)}`);
  const event = (await framed) as { bundle_seq: number };
  const trace = tracing;
  tracing = null;
  if (event.bundle_seq !== answer.bundle_seq) throw new Error(`frame ${event.bundle_seq}, push ${answer.bundle_seq}`);
  const url = `${baseUrl}/sync/pull?after_bundle_seq=${bSeq}&max_bundles=1000&target_bundle_seq=${event.bundle_seq}`;
  const t1 = performance.now();
  const pre = await fetch(url, {
    method: 'OPTIONS',
    headers: {
      Origin: 'http://127.0.0.1:1',
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization,oversync-source-id',
    },
  });
  await pre.arrayBuffer();
  const t2 = performance.now();
  const page = await (await fetch(url, { headers: headersOf(B) })).json();
  const t3 = performance.now();
  if (page.bundles?.length !== 1) throw new Error(`pull: ${JSON.stringify(page).slice(0, 300)}`);
  bSeq = event.bundle_seq;
  if (n <= WARMUP) continue;
  toFrame.push(tFrame - t0);
  toAnswer.push(tAnswer - t0);
  preflight.push(t2 - t1);
  pull.push(t3 - t2);
  if (TRACE) {
    const m = marks;
    for (const [k, v] of Object.entries({
      'sent → server request': m.request! - t0,
      'request → tx asked': m.txAsked! - m.request!,
      'tx asked → held': m.txHeld! - m.txAsked!,
      'held → tx done': m.txDone! - m.txHeld!,
      'tx done → response finish': m.finish! - m.txDone!,
      'finish → A has answer': tAnswer - m.finish!,
    }))
      (phases.get(k) ?? phases.set(k, []).get(k)!).push(v);
  }
  trace?.forEach((s, i) => {
    const e = statements.get(i) ?? statements.set(i, { sql: s.sql, ms: [] }).get(i)!;
    e.ms.push(s.ms);
  });
}
let cpuLine = '';
if (cpu0 && backendsOf) {
  const node = process.cpuUsage(cpu0.node);
  let pg = 0;
  for (const [pid, t] of await backendsOf()) pg += t - (cpu0.pg.get(pid) ?? 0);
  cpuLine = `CPU per sample: this process ${((node.user + node.system) / 1000 / SAMPLES).toFixed(2)} ms, PostgreSQL backends ${(pg / SAMPLES).toFixed(2)} ms`;
}
await sse.cancel().catch(() => {});
const show = (name: string, xs: number[]) =>
  console.log(
    `${name.padEnd(22)} p50 ${percentile(xs, 0.5).toFixed(2).padStart(6)} ms   p90 ${percentile(xs, 0.9).toFixed(2).padStart(6)} ms`,
  );
console.log(`${SAMPLES} samples, server ${IN_CHILD ? 'in a child process' : 'in this process'}`);
show('push → B has frame', toFrame);
show('push → A has answer', toAnswer);
show('preflight', preflight);
show('pull (1 bundle)', pull);
if (cpuLine) console.log(cpuLine);
if (TRACE) {
  console.log('push phases (median ms):');
  for (const [k, xs] of phases) console.log(`  ${percentile(xs, 0.5).toFixed(3).padStart(7)}  ${k}`);
  console.log('push statements (median wall ms each):');
  for (const { sql, ms } of statements.values()) console.log(`  ${percentile(ms, 0.5).toFixed(3).padStart(7)}  (${ms.length})  ${sql}`);
}
await close();
process.exit(0);
