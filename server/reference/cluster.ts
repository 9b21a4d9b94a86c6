/**
 * Several reference server processes on one port (`WORKERS=n`), with node:cluster: the primary
 * owns the listening socket and hands each new connection to the next worker (round-robin on
 * Linux). The processes share nothing but PostgreSQL: push sessions, snapshot sessions and watch
 * wake-ups (LISTEN/NOTIFY) all live there, so any process can serve any request.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';

/** Reads `WORKERS` (default 1). */
export function readWorkers(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const workers = Number(value);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    throw new Error(`WORKERS must be an integer from 1 to 256, got "${value}".`);
  }
  return workers;
}

/**
 * In the primary: forks `workers` processes running this same script, starts a new one when one
 * dies unexpectedly (after it had started listening), and on SIGTERM/SIGINT stops them all
 * gracefully and exits 0. A worker that fails before listening stops the whole server (exit 1):
 * restarting it would fail the same way.
 */
export function superviseWorkers(workers: number, log: (line: string) => void): void {
  let stopping = false;
  const listening = new WeakSet<Worker>();
  const fork = (): void => {
    const worker = cluster.fork();
    worker.once('listening', () => listening.add(worker));
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    if (!listening.has(worker)) {
      log(`worker ${worker.process.pid} failed to start (${signal ?? code}); stopping.`);
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
      process.exitCode = 1;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1);
      return;
    }
    log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another.`);
    fork();
  });
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping ${workers} workers…`);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (let i = 0; i < workers; i++) fork();
}
