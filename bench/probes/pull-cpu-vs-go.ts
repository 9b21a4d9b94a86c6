/**
 * CPU per 10,000-row bundle pull page by process, go-oversync's example server vs ours (group 7's
 * servers): a device pushes N rows to each, then raw `GET /sync/pull` of that page, servers
 * alternating, each timed until its body is read, with the CPU each process spent meanwhile: the
 * server process (all threads) and its PostgreSQL backends (the ones connected to its database),
 * from /proc schedstat. On a machine shared with other work, wall time follows the load; CPU
 * follows the work, and on two cores a pull's wall is bounded below by client + server + PostgreSQL
 * CPU once the machine has no idle core to overlap them on.
 *
 *   npx tsx bench/probes/pull-cpu-vs-go.ts [--rows 10000] [--gets 30]
 */
import pg from 'pg';
import { openExampleDevice } from '../lib/example-device.ts';
import { locateGoReference, startGoReferenceServer } from '../lib/go-reference-server.ts';
import { childPids, threadCpuMs } from '../lib/process-cpu.ts';
import { median } from '../lib/stats.ts';
import { startExampleSyncServer } from '../lib/sync-server.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const GETS = Number(arg('gets', '30'));
const admin = new pg.Client({ connectionString: process.env.OVERSQLITE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
const databases = async () =>
  new Set((await admin.query<{ datname: string }>('SELECT datname FROM pg_database')).rows.map((r) => r.datname));
const backendsOf = async (datname: string) =>
  (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [datname])).rows.map((r) => r.pid);
const cpuOf = (pids: number[]) =>
  pids.reduce((sum, pid) => {
    try {
      return sum + threadCpuMs(pid);
    } catch {
      return sum;
    }
  }, 0);

const found = await locateGoReference();
if (found.peerPath === null) throw new Error(found.reason);
const before = await databases();
const kids0 = childPids();
const go = await startGoReferenceServer(found.peerPath);
// Other work on the machine may create databases meanwhile: each server's are named so.
const goDb = [...(await databases())].find((d) => !before.has(d) && d.startsWith('oversqlite_goex_'))!;
const goPid = [...childPids()].find((p) => !kids0.has(p))!;
const before2 = await databases();
const kids1 = childPids();
const ours = await startExampleSyncServer();
const ourDb = [...(await databases())].find((d) => !before2.has(d) && d.startsWith('oversqlite_bench_vs_go_'))!;
const ourPid = [...childPids()].find((p) => !kids1.has(p))!;
const sides = [
  { label: 'go', baseUrl: go.baseUrl, tokenFor: go.tokenFor, db: goDb, pid: goPid },
  { label: 'ours', baseUrl: ours.baseUrl, tokenFor: ours.tokenFor, db: ourDb, pid: ourPid },
];
try {
  const users = new Map<string, string>();
  for (const side of sides) {
    const user = `pullcpu-${Date.now().toString(36)}-${side.label}`;
    const pusher = await openExampleDevice(side.baseUrl, () => side.tokenFor(user), { pushChunkRows: 5000 });
    await pusher.engine.attach(user);
    pusher.insert(9, 0, ROWS);
    await pusher.engine.pushPending();
    await pusher.close();
    users.set(side.label, user);
  }
  const results = new Map(
    sides.map((s) => [s.label, { wall: [] as number[], server: [] as number[], pg: [] as number[], client: [] as number[] }]),
  );
  for (let g = 0; g < GETS + 2; g++) {
    for (const side of g % 2 ? [...sides].reverse() : sides) {
      const headers = {
        Authorization: `Bearer ${await side.tokenFor(users.get(side.label)!)}`,
        'Oversync-Source-ID': `pullcpu-raw-${side.label}`,
      };
      const backends = await backendsOf(side.db);
      const s0 = threadCpuMs(side.pid);
      const p0 = cpuOf(backends);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const res = await fetch(`${side.baseUrl}/sync/pull?after_bundle_seq=0&max_bundles=1000`, { headers });
      await res.arrayBuffer();
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (res.status !== 200) throw new Error(`${side.label} raw pull: ${res.status}`);
      // The first two rounds warm both servers up; not counted.
      if (g < 2) continue;
      const r = results.get(side.label)!;
      r.wall.push(wall);
      r.server.push(threadCpuMs(side.pid) - s0);
      // Backends opened during the request are missed; the pools keep theirs open after the first rounds.
      r.pg.push(cpuOf(backends) - p0);
      r.client.push((c.user + c.system) / 1000);
    }
  }
  for (const [label, r] of results) {
    console.log(
      `${label.padEnd(4)} median of ${GETS}: last byte ${median(r.wall).toFixed(1)} ms; CPU server ${median(r.server).toFixed(1)}, PostgreSQL ${median(r.pg).toFixed(1)}, ` +
        `client (fetch + read) ${median(r.client).toFixed(1)} ms; sum ${(median(r.server) + median(r.pg) + median(r.client)).toFixed(1)} ms`,
    );
  }
} finally {
  await admin.end();
  await ours.close();
  await go.close();
}
process.exit(0);
