/**
 * Our server alone serving snapshot chunks, two checkouts interleaved (issue 16 goal 4):
 * `--old <dir>` is a checkout of the old code (its own `node_modules` link), this checkout the new.
 * Each side's example server (a child process, fresh database) gets N rows pushed by a device of
 * its own client code and one snapshot session; then raw `GET /sync/snapshot-sessions/{id}` of the
 * first chunk (default limits: 5,000 rows) alternate old/new/new/old in blocks of BLOCK GETs, each
 * GET timed to its last byte, each block's server CPU per GET (all the process's threads' run
 * time, /proc/<pid>/task/<tid>/schedstat). Prints medians, paired differences, and `uptime`.
 *
 *   npx tsx bench/probes/snapshot-chunk-serve-ab.ts --old /tmp/old [--rows 10000] [--gets 100] [--block 10]
 */
import { execSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { childPids, threadCpuMs } from '../lib/process-cpu.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const GETS = Number(arg('gets', '100'));
/** GETs in a row per side and turn: their CPU summed, so a GC pause lands in one block's average, not in one GET. */
const BLOCK = Number(arg('block', '10'));
const oldDir = resolve(arg('old', ''));

interface Side {
  label: 'old' | 'new';
  baseUrl: string;
  pid: number;
  headers(): Promise<Record<string, string>>;
  snapshotId: string;
  close(): Promise<void>;
}

async function side(label: 'old' | 'new', root: string): Promise<Side> {
  const lib = (await import(pathToFileURL(`${root}/bench/lib/sync-server.ts`).href)) as typeof import('../lib/sync-server.ts');
  const dev = (await import(pathToFileURL(`${root}/bench/lib/example-device.ts`).href)) as typeof import('../lib/example-device.ts');
  const before = childPids();
  const server = await lib.startExampleSyncServer();
  const pid = [...childPids()].find((p) => !before.has(p));
  if (pid === undefined) throw new Error(`${label}: server child not found`);
  const user = `chunk-${label}-${Date.now().toString(36)}`;
  const pusher = await dev.openExampleDevice(server.baseUrl, () => server.tokenFor(user), { pushChunkRows: 5000 });
  await pusher.engine.attach(user);
  pusher.insert(7, 0, ROWS);
  await pusher.engine.pushPending();
  await pusher.close();
  const headers = async (): Promise<Record<string, string>> => ({
    Authorization: `Bearer ${await server.tokenFor(user)}`,
    'Oversync-Source-ID': `chunk-raw-${label}`,
  });
  const created = await fetch(`${server.baseUrl}/sync/snapshot-sessions`, { method: 'POST', headers: await headers() });
  if (!created.ok) throw new Error(`${label}: snapshot create ${created.status} ${await created.text()}`);
  const { snapshot_id: snapshotId } = (await created.json()) as { snapshot_id: string };
  return { label, baseUrl: server.baseUrl, pid, headers, snapshotId, close: server.close };
}

console.log(`uptime before: ${execSync('uptime').toString().trim()}`);
const sides = [await side('old', oldDir), await side('new', resolve(import.meta.dirname, '../..'))];
const results = new Map<string, number[]>();
const note = (k: string, v: number): void => void (results.get(k) ?? results.set(k, []).get(k)!).push(v);
const bodies = new Map<string, Buffer>();
try {
  for (let g = -1; g < GETS; g++) {
    for (const s of g % 2 ? [...sides].reverse() : sides) {
      const headers = await s.headers();
      const c0 = threadCpuMs(s.pid);
      for (let b = 0; b < BLOCK; b++) {
        const t0 = performance.now();
        const res = await fetch(`${s.baseUrl}/sync/snapshot-sessions/${s.snapshotId}?after_row_ordinal=0`, { headers });
        const body = Buffer.from(await res.arrayBuffer());
        const wall = performance.now() - t0;
        if (res.status !== 200) throw new Error(`${s.label}: chunk ${res.status} ${body.toString()}`);
        if (g < 0) bodies.set(s.label, body);
        else note(`${s.label} last byte ms`, wall);
      }
      // Let the server finish its bookkeeping for these requests before reading its CPU.
      await new Promise((r) => setTimeout(r, 20));
      const cpu = (threadCpuMs(s.pid) - c0) / BLOCK;
      if (g >= 0) note(`${s.label} server cpu ms`, cpu);
    }
  }
} finally {
  for (const s of sides) await s.close();
}
// The two servers' users, keys and session ids differ only by name; sizes must match to the byte.
console.log(`chunk bytes old ${bodies.get('old')?.length}, new ${bodies.get('new')?.length}`);
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
for (const [k, v] of [...results].sort()) {
  const s = sorted(v);
  const q = (p: number): string => s[Math.floor(p * (s.length - 1))]!.toFixed(1);
  console.log(`${k.padEnd(20)} median ${q(0.5).padStart(7)}  (p25 ${q(0.25)}, p75 ${q(0.75)}, min ${q(0)}, n ${s.length})`);
}
// Paired: each round's old and new ran back to back, so their difference sees the same load.
for (const what of ['last byte ms', 'server cpu ms']) {
  const olds = results.get(`old ${what}`)!;
  const diffs = sorted(results.get(`new ${what}`)!.map((v, i) => v - olds[i]!));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`${what}: mean old ${mean(olds).toFixed(2)}, new ${mean(results.get(`new ${what}`)!).toFixed(2)}`);
  console.log(`new − old ${what.padEnd(14)} paired median ${diffs[diffs.length >> 1]!.toFixed(1)} ms (n ${diffs.length})`);
}
console.log(`uptime after: ${execSync('uptime').toString().trim()}`);
process.exit(0);
