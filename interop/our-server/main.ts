/**
 * Our sync server for the Go-client interop lane: a fresh PostgreSQL database with go-oversync's
 * example schema (`example-schema.sql`, its 8 tables registered like go-oversync's example server
 * registers them), HS256 JWT auth (`sub` = user id) with the secret from `JWT_SECRET`, on
 * 127.0.0.1 at a free port. Prints one JSON line `{"url","databaseUrl","database"}` on stdout when
 * ready; SIGTERM, SIGINT or the end of stdin stop it and drop the database.
 *
 * History is kept short (16 bundles per user) so that a device can fall behind the retained floor.
 * Test-only routes: `POST /interop/write-as` makes server-originated bundles (see writeAs);
 * `GET /test/watch-subscribers?user_id=` counts a user's watch streams (go-oversync's example has it).
 *
 * Env: OVERSQLITE_TEST_PG_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
 * JWT_SECRET (required), OVERSQLITE_INTEROP_JOIN_DATABASE_URL (a second process: serve the first
 * one's database, leaving its creation and drop to the first), OVERSQLITE_INTEROP_SNAPSHOT_PIECE_ROWS
 * (the server's `limits.snapshotBuildPieceRows`, e.g. 2: the Go client's snapshots are then
 * answered before their build ends and its chunk reads wait for the pieces).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { toNodeHandler } from '../../server/adapters/node-http.ts';
import { createJwtAuth } from '../../server/auth/jwt-auth.ts';
import { createPostgresDatabase } from '../../server/database/postgres.ts';
import { createSyncServer } from '../../server/index.ts';
import type { SyncServer } from '../../server/index.ts';
import type { RegisteredTable } from '../../server/runtime/options.ts';

/** go-oversync's example server registers these, in this order, each keyed by `id uuid`. */
const EXAMPLE_TABLES: RegisteredTable[] = [
  'users',
  'posts',
  'categories',
  'teams',
  'team_members',
  'files',
  'file_reviews',
  'typed_rows',
].map((table) => ({ schema: 'business', table, syncKey: 'id' }));

/** Bundles kept per user for incremental pull (the Go program's history-pruned scenario relies on it). */
const RETAINED_BUNDLES_PER_USER = 16;

/** Test-only route: a server-originated write (`sync.writeAs`) the Go program asks for. */
const WRITE_AS_PATH = '/interop/write-as';

/** Test-only route, as go-oversync's example server has it: `GET ?user_id=` → open watch streams. */
const WATCH_SUBSCRIBERS_PATH = '/test/watch-subscribers';

/**
 * `POST /interop/write-as` with header `X-Interop-Secret: <JWT_SECRET>` and body
 * `{"user","statements":[{"sql","params"}]}`: runs the statements as one server-originated bundle of
 * that user (source `server:interop`) and answers `{"bundle_seq"}`. Only this lane's server has it.
 */
async function writeAs(request: Request, sync: SyncServer, secret: string): Promise<Response> {
  if (request.method !== 'POST' || request.headers.get('x-interop-secret') !== secret) {
    return Response.json({ error: 'forbidden', message: 'write-as needs POST and X-Interop-Secret' }, { status: 403 });
  }
  const body = (await request.json()) as { user: string; statements: { sql: string; params?: unknown[] }[] };
  try {
    const { bundle } = await sync.writeAs(body.user, 'server:interop', async (tx) => {
      for (const st of body.statements) await tx.query(st.sql, st.params ?? []);
    });
    return Response.json({ bundle_seq: bundle.bundle_seq });
  } catch (err) {
    return Response.json({ error: 'write_as_failed', message: err instanceof Error ? err.message : String(err) }, { status: 400 });
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  const adminUrl = process.env.OVERSQLITE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const secret = process.env.JWT_SECRET;
  if (!secret) throw new Error('JWT_SECRET must be set: the Go client mints its tokens with the same secret');
  // A second process joins the first one's database: no new database, no DDL, no drop.
  const joining = process.env.OVERSQLITE_INTEROP_JOIN_DATABASE_URL;
  const name = joining ? new URL(joining).pathname.slice(1) : `oversqlite_interop_go_${randomBytes(4).toString('hex')}`;
  if (!joining) await adminQuery(adminUrl, `create database "${name}"`);
  const databaseUrl = joining ?? withDatabase(adminUrl, name);
  const dropDatabase = () => (joining ? Promise.resolve() : adminQuery(adminUrl, `drop database if exists "${name}" with (force)`));

  const db = createPostgresDatabase({ connectionString: databaseUrl, maxConnections: 8 });
  let sync: SyncServer;
  try {
    if (!joining) await db.query(await readFile(new URL('./example-schema.sql', import.meta.url), 'utf8'));
    sync = await createSyncServer({
      database: db,
      tables: EXAMPLE_TABLES,
      appName: 'oversqlite-interop-go-client',
      watch: { enabled: true, heartbeatMs: 1_000 },
      // Short history, so that scenario history-pruned can push a device past the retained floor
      // with a few bundles; no other scenario keeps a device more than 16 bundles behind.
      retention: { retainedBundlesPerUser: RETAINED_BUNDLES_PER_USER, pruneBatchSize: RETAINED_BUNDLES_PER_USER },
      limits: process.env.OVERSQLITE_INTEROP_SNAPSHOT_PIECE_ROWS
        ? { snapshotBuildPieceRows: Number(process.env.OVERSQLITE_INTEROP_SNAPSHOT_PIECE_ROWS) }
        : undefined,
      onInternalError: (err, where) =>
        console.error(`our-server: ERROR ${where}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
    });
  } catch (err) {
    await db.close();
    await dropDatabase();
    throw err;
  }
  const auth = createJwtAuth({ secret });
  const handle = async (request: Request, who: { userId: string | null }): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === WRITE_AS_PATH) return writeAs(request, sync, secret);
    if (url.pathname === WATCH_SUBSCRIBERS_PATH) {
      // The shape of go-oversync's example route, so one Go scenario reads both servers.
      const userId = url.searchParams.get('user_id') ?? '';
      return Response.json({ user_id: userId, subscriber_count: sync.bundleChangeSubscriberCount(userId), process_local_only: true });
    }
    return sync.handle(request, who);
  };
  const authenticate = (request: Request) => {
    const path = new URL(request.url).pathname;
    return path === WRITE_AS_PATH || path === WATCH_SUBSCRIBERS_PATH ? Promise.resolve({ userId: null }) : auth.authenticate(request);
  };
  const http = createServer(
    toNodeHandler(handle, authenticate, {
      onError: (err, request) =>
        console.error(
          `our-server: ERROR ${request.method} ${new URL(request.url).pathname}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        ),
    }),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      await sync.close();
      http.closeAllConnections();
      await closed;
      await db.close();
      await dropDatabase();
    })().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('our-server: shutdown failed:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, databaseUrl, database: name })}\n`);
}

main().catch((err: unknown) => {
  console.error('our-server: failed to start:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
