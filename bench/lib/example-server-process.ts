/**
 * Child process body of {@link startExampleSyncServer}: our sync server serving go-oversync's
 * example schema (`interop/our-server/example-schema.sql`, the 8 tables in the order go-oversync's
 * example server registers them) on a fresh PostgreSQL database, with the server's shipped
 * defaults (pool of 10 connections, wire dialect `auto`, default limits and retention), so the
 * side-by-side group compares it with go-oversync's example server as each ships. HS256 JWT auth
 * with a random secret; tokens are minted here. IPC ops: `start`, `token`, `close`.
 */
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

const secret = randomBytes(32).toString('hex');
let running: { testDatabase: TestDatabase; sync: SyncServer; http: Server } | undefined;

async function start(): Promise<string> {
  const testDatabase = await createTestDatabase('bench_vs_go');
  if (!testDatabase.connectionString) {
    await testDatabase.drop();
    throw new Error('the side-by-side group needs PostgreSQL (go-oversync runs on PostgreSQL only); unset OVERSQLITE_TEST_DB');
  }
  await testDatabase.exec(await readFile(new URL('../../interop/our-server/example-schema.sql', import.meta.url), 'utf8'));
  // A connection string, not a pool: the server creates (and closes) its database as an app would.
  const sync = await createSyncServer({
    database: { connectionString: testDatabase.connectionString },
    tables: LOCAL_TABLES.map((t) => ({ schema: EXAMPLE_REMOTE_SCHEMA, table: t.table, syncKey: t.syncKey })),
    appName: 'oversqlite-bench-vs-go',
  });
  const auth = createJwtAuth({ secret });
  const http = createServer(toNodeHandler((req, a) => sync.handle(req, a), auth.authenticate));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  running = { testDatabase, sync, http };
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

async function stop(): Promise<void> {
  const r = running;
  running = undefined;
  if (!r) return;
  await r.sync.close();
  r.http.closeAllConnections();
  await new Promise<void>((resolve) => r.http.close(() => resolve()));
  await r.testDatabase.drop();
}

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
  void stop().catch(() => undefined).finally(() => process.exit(0));
});
