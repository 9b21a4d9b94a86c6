/**
 * Per-process CPU for probes that time a server child (Linux /proc): which children this process
 * started, and a process's CPU time over all its threads (GC helpers and libuv's pool included),
 * in nanosecond resolution from schedstat rather than the 10 ms ticks of /proc/<pid>/stat.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Pids of this process's children. */
export function childPids(): Set<number> {
  const out = new Set<number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === process.pid) out.add(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU ms of `pid` so far, all its threads: schedstat's run time. */
export function threadCpuMs(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // thread gone meanwhile
    }
  }
  return ns / 1e6;
}
