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
import { threadCpuMs } from '../lib/process-cpu.ts';
import { printServeAb, startSeededSide } from '../lib/serve-ab.ts';
import type { SeededSide } from '../lib/serve-ab.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const GETS = Number(arg('gets', '100'));
/** GETs in a row per side and turn: their CPU summed, so a GC pause lands in one block's average, not in one GET. */
const BLOCK = Number(arg('block', '10'));
const oldDir = resolve(arg('old', ''));

interface Side extends SeededSide {
  headers(): Promise<Record<string, string>>;
  snapshotId: string;
}

/** A seeded side with one snapshot session of its rows. */
async function side(label: 'old' | 'new', root: string): Promise<Side> {
  const seeded = await startSeededSide(label, root, ROWS, 'chunk');
  const headers = async (): Promise<Record<string, string>> => ({
    Authorization: `Bearer ${await seeded.tokenFor(seeded.user)}`,
    'Oversync-Source-ID': `chunk-raw-${label}`,
  });
  const created = await fetch(`${seeded.baseUrl}/sync/snapshot-sessions`, { method: 'POST', headers: await headers() });
  if (!created.ok) throw new Error(`${label}: snapshot create ${created.status} ${await created.text()}`);
  const { snapshot_id: snapshotId } = (await created.json()) as { snapshot_id: string };
  return { ...seeded, headers, snapshotId };
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
printServeAb(results, ['last byte ms', 'server cpu ms']);
console.log(`uptime after: ${execSync('uptime').toString().trim()}`);
process.exit(0);
