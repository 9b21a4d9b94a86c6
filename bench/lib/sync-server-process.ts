/**
 * Child process body of {@link startBenchSyncServer}: runs the test harness' `startSyncServer()`
 * with the bench table and answers over IPC: `start`, `token`, `pgInsert` (the PostgreSQL
 * baseline: the same rows straight into a plain table), `seed` (server-originated bundles) and `close`.
 */
import pg from 'pg';
import { startSyncServer } from '../../test/harness/sync-server.ts';
import type { StartedSyncServer } from '../../test/harness/sync-server.ts';
import { itemBody, itemKey } from '../app/schema.ts';
import { BENCH_PG_SCHEMA_SQL, BENCH_TABLES } from './bench-schema.ts';

type ServerRequest = { id: number; op: 'start' | 'token' | 'pgInsert' | 'seed' | 'close'; arg?: string; rows?: number };

let server: StartedSyncServer | undefined;

/** Inserts `rows` bench rows for scope `scope` in one transaction, 1,000 rows per statement; ms. */
async function pgInsert(scope: string, rows: number): Promise<number> {
  const connectionString = server?.testDatabase.connectionString;
  if (!connectionString) throw new Error('the PostgreSQL baseline needs a PostgreSQL test database');
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const t0 = performance.now();
    await client.query('BEGIN');
    for (let start = 0; start < rows; start += 1000) {
      const count = Math.min(1000, rows - start);
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (let i = 0; i < count; i++) {
        const k = start + i;
        tuples.push(`($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`);
        values.push(scope, itemKey('pg', k), k, itemBody(k));
      }
      await client.query(`INSERT INTO bench.items_plain (_sync_scope_id, id, n, body) VALUES ${tuples.join(', ')}`, values);
    }
    await client.query('COMMIT');
    return performance.now() - t0;
  } finally {
    await client.end();
  }
}

/**
 * Server-originated bundles of `rows` bench rows for `userId` (keys `s-0000000`...), through the
 * runtime's `writeAs` in bundles of at most 50,000 rows: how the bench gets large data onto the
 * server without paying for a device push. Returns ms.
 */
async function seed(userId: string, rows: number): Promise<number> {
  if (!server) throw new Error('server not started');
  const t0 = performance.now();
  for (let start = 0; start < rows; start += 50_000) {
    const end = Math.min(rows, start + 50_000) - 1;
    await server.server.writeAs(userId, 'bench-seeder', (tx) =>
      tx.query(
        `INSERT INTO bench.items (id, n, body)
       SELECT 's-' || lpad(g::text, 7, '0'), g, rpad('row ' || g || ' ', 170, 'abcdefghijklmnopqrstuvwxyz0123456789')
       FROM generate_series($1::int, $2::int) AS g`,
        [start, end],
      ),
    );
  }
  return performance.now() - t0;
}

process.on('message', async (message: ServerRequest) => {
  const reply = (body: { ok: true; value: unknown } | { ok: false; error: string }) => process.send?.({ id: message.id, ...body });
  try {
    if (message.op === 'start') {
      // BENCH_ONE_REQUEST_PUSH=off: the server without the one-request push (a same-session
      // baseline of the three-request push, as go-oversync and earlier releases push).
      server = await startSyncServer({
        purpose: 'bench',
        schemaSql: BENCH_PG_SCHEMA_SQL,
        tables: BENCH_TABLES,
        oneRequestPush: process.env.BENCH_ONE_REQUEST_PUSH !== 'off',
        // Browser devices call it from the bench page's origin too (loopback, another port).
        cors: true,
      });
      reply({ ok: true, value: server.baseUrl });
    } else if (message.op === 'token') {
      if (!server) throw new Error('server not started');
      reply({ ok: true, value: server.tokenFor(String(message.arg)) });
    } else if (message.op === 'seed') {
      reply({ ok: true, value: await seed(String(message.arg), Number(message.rows)) });
    } else if (message.op === 'pgInsert') {
      reply({ ok: true, value: await pgInsert(String(message.arg), Number(message.rows)) });
    } else {
      await server?.close();
      server = undefined;
      reply({ ok: true, value: null });
      setTimeout(() => process.exit(0), 10);
    }
  } catch (error) {
    reply({ ok: false, error: error instanceof Error ? `${error.message}` : String(error) });
  }
});

// The runner died without saying close (Ctrl-C, a crash): drop the database and go too.
process.on('disconnect', () => {
  void Promise.resolve(server?.close())
    .catch(() => undefined)
    .finally(() => process.exit(0));
});
