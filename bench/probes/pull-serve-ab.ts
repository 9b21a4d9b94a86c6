/**
 * Our server alone serving a large pull page, two checkouts interleaved (issue 16 item 5):
 * `--old <dir>` is a checkout of the old code (its own `node_modules` link), this checkout the new.
 * Each side's example server (a child process, fresh database) gets N rows pushed by a device of
 * its own client code; then raw `GET /sync/pull` requests of the whole page alternate old/new/
 * new/old, each timed to its last byte, with the server process's CPU over the request (all its
 * threads' run time, /proc/<pid>/task/<tid>/schedstat) and its PostgreSQL backends' CPU. Prints
 * medians and spreads, and `uptime` before and after.
 *
 *   npx tsx bench/probes/pull-serve-ab.ts --old /tmp/old [--rows 10000] [--gets 60]
 */
import { execSync } from 'node:child_process';
import { resolve } from 'node:path';
import { threadCpuMs } from '../lib/process-cpu.ts';
import { printServeAb, startSeededSide } from '../lib/serve-ab.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const GETS = Number(arg('gets', '60'));
const oldDir = resolve(arg('old', ''));

console.log(`uptime before: ${execSync('uptime').toString().trim()}`);
const sides = [
  await startSeededSide('old', oldDir, ROWS, 'serve'),
  await startSeededSide('new', resolve(import.meta.dirname, '../..'), ROWS, 'serve'),
];
const results = new Map<string, number[]>();
const note = (k: string, v: number): void => void (results.get(k) ?? results.set(k, []).get(k)!).push(v);
const bodies = new Map<string, Buffer>();
try {
  for (let g = -2; g < GETS; g++) {
    for (const s of g % 2 ? [...sides].reverse() : sides) {
      const headers = { Authorization: `Bearer ${await s.tokenFor(s.user)}`, 'Oversync-Source-ID': `serve-raw-${s.label}` };
      const c0 = threadCpuMs(s.pid);
      // Backends the pool opens during the request are missed (its connections stay open after the warm-up rounds).
      const d0 = await s.databaseCpuMs();
      const t0 = performance.now();
      const res = await fetch(`${s.baseUrl}/sync/pull?after_bundle_seq=0&max_bundles=1000`, { headers });
      const body = Buffer.from(await res.arrayBuffer());
      const wall = performance.now() - t0;
      // Let the server finish its bookkeeping for this request before reading its CPU.
      await new Promise((r) => setTimeout(r, 20));
      const cpu = threadCpuMs(s.pid) - c0;
      const dbCpu = (await s.databaseCpuMs()) - d0;
      if (g < 0) {
        bodies.set(s.label, body);
        continue; // warm-up
      }
      note(`${s.label} last byte ms`, wall);
      note(`${s.label} server cpu ms`, cpu);
      note(`${s.label} postgres cpu ms`, dbCpu);
    }
  }
} finally {
  for (const s of sides) await s.close();
}
// The two servers' users and keys differ only by name; sizes must match to the byte.
console.log(`page bytes old ${bodies.get('old')?.length}, new ${bodies.get('new')?.length}`);
printServeAb(results, ['last byte ms', 'server cpu ms', 'postgres cpu ms']);
console.log(`uptime after: ${execSync('uptime').toString().trim()}`);
process.exit(0);
