/**
 * Where a loaded server's time goes, go-oversync's example server vs ours: N devices (pairs share
 * a user) loop write 5 rows + sync() for S seconds against one server, and the probe prints
 * bundles/s plus, per request kind (method + path pattern), the count per sync and the client-side
 * wall time (p50/p99). Same client and servers as bench group 7.
 *
 *   npx tsx bench/probes/fleet-vs-go.ts [--devices 50] [--seconds 8] [--warmup 3] [--side both|ours|go]
 *
 * `--warmup` seconds of the same loop run untimed first (JIT, pool connections, prepared statements).
 *
 * `BENCH_SERVER_CPU_PROF=<dir>` writes a V8 CPU profile of our server child. Also prints the CPU
 * time per sync of the server process and of its PostgreSQL backends (from /proc), which a busy
 * machine disturbs much less than wall-clock throughput.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { openExampleDevice } from '../lib/example-device.ts';
import type { ExampleDevice } from '../lib/example-device.ts';
import { locateGoReference, startGoReferenceServer } from '../lib/go-reference-server.ts';
import { startExampleSyncServer } from '../lib/sync-server.ts';
import { percentile } from '../lib/stats.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const DEVICES = Number(arg('devices', '50'));
const SECONDS = Number(arg('seconds', '8'));
const SIDE = arg('side', 'both');
const WARMUP = Number(arg('warmup', '3'));

/** utime + stime of a process in ms (Linux /proc; 0 once it is gone). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** The server process listening on `baseUrl`'s port, and the PostgreSQL backends serving its connections. */
async function serverPids(baseUrl: string): Promise<{ server: number; backends: number[] }> {
  const port = new URL(baseUrl).port;
  const listen = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const server = Number(/pid=(\d+)/.exec(listen)?.[1]);
  const conns = execFileSync('ss', ['-tnpH', 'dport = :5432'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`pid=${server},`));
  const ports = conns.map((l) => Number(/127\.0\.0\.1:(\d+)\s/.exec(l)?.[1]));
  const admin = new pg.Client({ connectionString: process.env.OVERSQLITE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  try {
    const r = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [ports]);
    return { server, backends: r.rows.map((x) => x.pid) };
  } finally {
    await admin.end();
  }
}

async function run(label: string, baseUrl: string, tokenFor: (u: string) => Promise<string>): Promise<void> {
  const timings = new Map<string, number[]>();
  const timedFetch: typeof fetch = async (input, init) => {
    const path = new URL(String(input)).pathname.replace(/\/[0-9a-f-]{8,}(?=\/|$)/g, '/:id').replace(/\/\d+(?=\/|$)/g, '/:n');
    const key = `${init?.method ?? 'GET'} ${path}`;
    const t0 = performance.now();
    const res = await fetch(input, init);
    const body = await res.arrayBuffer();
    (timings.get(key) ?? timings.set(key, []).get(key)!).push(performance.now() - t0);
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  const devices: ExampleDevice[] = [];
  const stamp = Date.now().toString(36);
  for (let i = 0; i < DEVICES; i++) {
    const user = `probe-${stamp}-${i >> 1}`;
    const d = await openExampleDevice(baseUrl, () => tokenFor(user), { pushChunkRows: 5000, fetch: timedFetch });
    const a = await d.engine.attach(user);
    if (a.status !== 'connected') throw new Error(JSON.stringify(a));
    devices.push(d);
  }
  const warmUntil = performance.now() + WARMUP * 1000;
  const seqs = devices.map(() => 0);
  await Promise.all(
    devices.map(async (d, i) => {
      while (performance.now() < warmUntil) {
        d.insert(i + 1, seqs[i]!, 5);
        seqs[i]! += 5;
        await d.engine.sync();
      }
    }),
  );
  timings.clear();
  const before = await serverPids(baseUrl);
  const cpu0 = new Map([before.server, ...before.backends].map((p) => [p, cpuMs(p)]));
  const client0 = process.cpuUsage();
  let bundles = 0;
  let syncs = 0;
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  await Promise.all(
    devices.map(async (d, i) => {
      let seq = seqs[i]!;
      while (performance.now() < deadline) {
        d.insert(i + 1, seq, 5);
        seq += 5;
        const r = await d.engine.sync();
        syncs++;
        if (r.push.outcome === 'committed') bundles++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const client = process.cpuUsage(client0);
  const after = await serverPids(baseUrl);
  const used = (p: number) => cpuMs(p) - (cpu0.get(p) ?? 0);
  const serverCpu = used(after.server);
  const pgCpu = [...new Set([...before.backends, ...after.backends])].reduce((s, p) => s + used(p), 0);
  console.log(
    `\n${label}: ${DEVICES} devices, ${bundles} bundles in ${seconds.toFixed(1)} s = ${(bundles / seconds).toFixed(1)}/s, ${syncs} syncs`,
  );
  console.log(
    `  CPU per sync: server process ${(serverCpu / syncs).toFixed(2)} ms, its PostgreSQL backends (${after.backends.length}) ${(pgCpu / syncs).toFixed(2)} ms; client process (these devices) ${((client.user + client.system) / 1000 / syncs).toFixed(2)} ms`,
  );
  for (const [key, t] of [...timings].sort((a, b) => b[1].length - a[1].length)) {
    console.log(
      `  ${key.padEnd(58)} ${(t.length / syncs).toFixed(2)}/sync  p50 ${percentile(t, 50).toFixed(1)} ms  p99 ${percentile(t, 99).toFixed(1)} ms`,
    );
  }
  await Promise.all(devices.map((d) => d.close()));
}

const found = await locateGoReference();
if (found.peerPath === null) throw new Error(found.reason);
if (SIDE !== 'ours') {
  const go = await startGoReferenceServer(found.peerPath);
  try {
    await run('go-oversync', go.baseUrl, (u) => go.tokenFor(u));
  } finally {
    await go.close();
  }
}
if (SIDE !== 'go') {
  const ours = await startExampleSyncServer();
  try {
    await run('ours', ours.baseUrl, (u) => ours.tokenFor(u));
  } finally {
    await ours.close();
  }
}
process.exit(0);
