/**
 * `npm run server`: the reference server, configured from the environment.
 *
 * PORT (8080) · DATABASE_URL (real PostgreSQL; otherwise embedded PGlite) · PGLITE_DIR (.pglite) ·
 * JWT_SECRET (HS256; a public development default otherwise) · HOST (all interfaces) ·
 * OVERSQLITE_TEST_HOOKS=1 (mount /test/* hooks) · WORKERS (1; n > 1: n processes on one port, see
 * cluster.ts; PostgreSQL only). SIGTERM/SIGINT stop it gracefully (exit 0).
 */
import cluster from 'node:cluster';
import { readWorkers, superviseWorkers } from './cluster.ts';
import { startReferenceServer } from './reference-server.ts';
import type { ReferenceServerOptions } from './reference-server.ts';

function readPort(value: string | undefined): number {
  if (value === undefined || value === '') return 8080;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got "${value}".`);
  }
  return port;
}

function optionsFromEnv(env: NodeJS.ProcessEnv): ReferenceServerOptions {
  const options: ReferenceServerOptions = { port: readPort(env.PORT), testHooks: env.OVERSQLITE_TEST_HOOKS === '1' };
  if (env.DATABASE_URL) options.databaseUrl = env.DATABASE_URL;
  if (env.PGLITE_DIR) options.pgliteDir = env.PGLITE_DIR;
  if (env.JWT_SECRET) options.jwtSecret = env.JWT_SECRET;
  if (env.HOST) options.host = env.HOST;
  return options;
}

async function main(): Promise<void> {
  const options = optionsFromEnv(process.env);
  // Under WORKERS, every line says which process wrote it.
  if (cluster.isWorker) options.log = (line) => console.log(`[worker ${process.pid}] ${line}`);
  const server = await startReferenceServer(options);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.log(`${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: shutting down gracefully…`);
    server.close().then(
      () => {
        console.log('stopped.');
        process.exit(0);
      },
      (err: unknown) => {
        console.error('shutdown failed:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function failed(err: unknown): never {
  console.error('oversqlite reference server failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
}

if (cluster.isPrimary) {
  let workers = 1;
  try {
    workers = readWorkers(process.env.WORKERS);
    // Embedded PGlite is one process's database: several processes would corrupt its directory.
    if (workers > 1 && !process.env.DATABASE_URL)
      throw new Error('WORKERS > 1 needs DATABASE_URL (PostgreSQL): PGlite serves one process only.');
  } catch (err) {
    failed(err);
  }
  if (workers > 1) superviseWorkers(workers, (line) => console.log(line));
  else main().catch(failed);
} else {
  main().catch(failed);
}
