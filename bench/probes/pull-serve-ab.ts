/**
 * Our server alone serving a large pull page, two checkouts interleaved (issue 16 item 5):
 * `--old <dir>` is a checkout of the old code (its own `node_modules` link), this checkout the new.
 * Each side's example server (a child process, fresh database) gets N rows pushed by a device of
 * its own client code; then raw `GET /sync/pull` requests of the whole page alternate old/new/
 * new/old, each timed to its last byte, with the server process's CPU over the request (all its
 * threads' run time, /proc/<pid>/task/<tid>/schedstat). Prints medians and spreads, and `uptime` before and after.
 *
 *   npx tsx bench/probes/pull-serve-ab.ts --old /tmp/old [--rows 10000] [--gets 60]
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
const GETS = Number(arg('gets', '60'));
const oldDir = resolve(arg('old', ''));

interface Side {
  label: 'old' | 'new';
  baseUrl: string;
  pid: number;
  tokenFor(user: string): Promise<string>;
  close(): Promise<void>;
  user: string;
}

async function side(label: 'old' | 'new', root: string): Promise<Side> {
  const lib = (await import(pathToFileURL(`${root}/bench/lib/sync-server.ts`).href)) as typeof import('../lib/sync-server.ts');
  const dev = (await import(pathToFileURL(`${root}/bench/lib/example-device.ts`).href)) as typeof import('../lib/example-device.ts');
  const before = childPids();
  const server = await lib.startExampleSyncServer();
  const pid = [...childPids()].find((p) => !before.has(p));
  if (pid === undefined) throw new Error(`${label}: server child not found`);
  const user = `serve-${label}-${Date.now().toString(36)}`;
  const pusher = await dev.openExampleDevice(server.baseUrl, () => server.tokenFor(user), { pushChunkRows: 5000 });
  await pusher.engine.attach(user);
  pusher.insert(7, 0, ROWS);
  await pusher.engine.pushPending();
  await pusher.close();
  return { label, baseUrl: server.baseUrl, pid, tokenFor: server.tokenFor, close: server.close, user };
}

console.log(`uptime before: ${execSync('uptime').toString().trim()}`);
const sides = [await side('old', oldDir), await side('new', resolve(import.meta.dirname, '../..'))];
const results = new Map<string, number[]>();
const note = (k: string, v: number): void => void (results.get(k) ?? results.set(k, []).get(k)!).push(v);
const bodies = new Map<string, Buffer>();
try {
  for (let g = -2; g < GETS; g++) {
    for (const s of g % 2 ? [...sides].reverse() : sides) {
      const headers = { Authorization: `Bearer ${await s.tokenFor(s.user)}`, 'Oversync-Source-ID': `serve-raw-${s.label}` };
      const c0 = threadCpuMs(s.pid);
      const t0 = performance.now();
      const res = await fetch(`${s.baseUrl}/sync/pull?after_bundle_seq=0&max_bundles=1000`, { headers });
      const body = Buffer.from(await res.arrayBuffer());
      const wall = performance.now() - t0;
      // Let the server finish its bookkeeping for this request before reading its CPU.
      await new Promise((r) => setTimeout(r, 20));
      const cpu = threadCpuMs(s.pid) - c0;
      if (g < 0) {
        bodies.set(s.label, body);
        continue; // warm-up
      }
      note(`${s.label} last byte ms`, wall);
      note(`${s.label} server cpu ms`, cpu);
    }
  }
} finally {
  for (const s of sides) await s.close();
}
// The two servers' users and keys differ only by name; sizes must match to the byte.
console.log(`page bytes old ${bodies.get('old')?.length}, new ${bodies.get('new')?.length}`);
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
  console.log(`new − old ${what.padEnd(14)} paired median ${diffs[diffs.length >> 1]!.toFixed(1)} ms (n ${diffs.length})`);
}
console.log(`uptime after: ${execSync('uptime').toString().trim()}`);
process.exit(0);
