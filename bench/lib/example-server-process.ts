/**
 * Child process body of {@link startExampleSyncServer}: our sync server serving go-oversync's
 * example schema (`interop/our-server/example-schema.sql`, the 8 tables in the order go-oversync's
 * example server registers them) on a fresh PostgreSQL database, with the server's shipped
 * defaults (pool of 10 connections, wire dialect `auto`, default limits and retention), so the
 * side-by-side group compares it with go-oversync's example server as each ships. HS256 JWT auth
 * with a random secret; tokens are minted here. IPC ops: `start`, `token`, `close`.
 *
 * `BENCH_OURS_WORKERS=<n>` (default 1) serves with n worker processes sharing the port
 * (`node:cluster`, one server instance each on the same database, as a multi-core deployment
 * would run it); the default is the single process an app gets from the README.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '../../server/adapters/index.ts';
import { createJwtAuth } from '../../server/auth/index.ts';
import { createSyncServer } from '../../server/index.ts';
import type { SyncServer } from '../../server/index.ts';
import { signHarnessToken } from '../../test/harness/sync-server.ts';
import { createTestDatabase } from '../../test/harness/test-database.ts';
import type { TestDatabase } from '../../test/harness/test-database.ts';
import { LOCAL_TABLES } from '../../interop/node/support/example-schema.ts';
import { EXAMPLE_REMOTE_SCHEMA } from './example-device.ts';

type ServerRequest = { id: number; op: 'start' | 'token' | 'close'; arg?: string };

const WORKERS = Math.max(1, Number(process.env.BENCH_OURS_WORKERS ?? 1));
const secret = process.env.BENCH_OURS_SECRET ?? randomBytes(32).toString('hex');
let running: { testDatabase: TestDatabase; sync?: SyncServer; http?: Server } | undefined;

/** Our server on `connectionString`, listening on 127.0.0.1 (port 0: shared by cluster workers). */
async function serve(connectionString: string): Promise<{ sync: SyncServer; http: Server }> {
  // A connection string, not a pool: the server creates (and closes) its database as an app would.
  const sync = await createSyncServer({
    database: { connectionString },
    tables: LOCAL_TABLES.map((t) => ({ schema: EXAMPLE_REMOTE_SCHEMA, table: t.table, syncKey: t.syncKey })),
    appName: 'oversqlite-bench-vs-go',
  });
  const auth = createJwtAuth({ secret });
  const http = createServer(toNodeHandler(sync.handle, auth.authenticate));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { sync, http };
}

async function start(): Promise<string> {
  const testDatabase = await createTestDatabase('bench_vs_go');
  if (!testDatabase.connectionString) {
    await testDatabase.drop();
    throw new Error('the side-by-side group needs PostgreSQL (go-oversync runs on PostgreSQL only); unset OVERSQLITE_TEST_DB');
  }
  await testDatabase.exec(await readFile(new URL('../../interop/our-server/example-schema.sql', import.meta.url), 'utf8'));
  if (WORKERS === 1) {
    const { sync, http } = await serve(testDatabase.connectionString);
    running = { testDatabase, sync, http };
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }
  running = { testDatabase };
  let port = 0;
  // One after another: each instance bootstraps the sync layout before the next starts.
  for (let i = 0; i < WORKERS; i++) {
    const worker = cluster.fork({ BENCH_OURS_SECRET: secret, BENCH_OURS_DATABASE_URL: testDatabase.connectionString });
    port = await new Promise<number>((resolve, reject) => {
      worker.once('listening', (address) => resolve(address.port));
      worker.once('exit', (code) => reject(new Error(`bench server worker exited with ${code}`)));
    });
  }
  return `http://127.0.0.1:${port}`;
}

async function stop(): Promise<void> {
  const r = running;
  running = undefined;
  if (!r) return;
  if (r.sync && r.http) {
    const { sync, http } = r;
    await sync.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
  for (const worker of Object.values(cluster.workers ?? {})) {
    if (!worker) continue;
    const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.kill('SIGTERM');
    await gone;
  }
  await r.testDatabase.drop();
}

if (cluster.isWorker) {
  const { sync, http } = await serve(String(process.env.BENCH_OURS_DATABASE_URL));
  process.once('SIGTERM', () => {
    void sync.close().finally(() => {
      http.closeAllConnections();
      http.close(() => process.exit(0));
    });
  });
} else {
  process.on('message', async (message: ServerRequest) => {
    const reply = (body: { ok: true; value: unknown } | { ok: false; error: string }) => process.send?.({ id: message.id, ...body });
    try {
      if (message.op === 'start') reply({ ok: true, value: await start() });
      else if (message.op === 'token') reply({ ok: true, value: signHarnessToken(String(message.arg), 3600, secret) });
      else {
        await stop();
        reply({ ok: true, value: null });
        setTimeout(() => process.exit(0), 10);
      }
    } catch (error) {
      reply({ ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  });

  // The runner died without saying close (Ctrl-C, a crash): drop the database and go too.
  process.on('disconnect', () => {
    void stop()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
}
