/**
 * Test harness: a real sync server on a fresh database, over real HTTP.
 *
 * ```ts
 * import { startSyncServer } from '../harness/sync-server.ts';
 * const h = await startSyncServer();               // sample schema (SAMPLE_SCHEMA_SQL / SAMPLE_TABLES)
 * const res = await fetch(`${h.baseUrl}/sync/capabilities`, {
 *   headers: { Authorization: `Bearer ${h.tokenFor('alice')}`, 'Oversync-Source-ID': 'device-1' },
 * });
 * await h.close();                                   // stops HTTP, closes the runtime, drops the database
 * ```
 * Options: `tables` + `schemaSql` for your own schema, `watch` (on by default, heartbeat 1 s),
 * `limits`, `retention`, `cors`, `basePath` (the server is then reachable under `${baseUrl}`, which includes it).
 * Auth: HS256 JWTs signed with `HARNESS_JWT_SECRET`, `sub` = user id (`tokenFor`), verified by
 * `server/auth` and mounted with `server/adapters` (node:http); requests without an
 * Authorization header reach the server anonymously (so `/syncx/*` works, `/sync/*` answers 401).
 * Set `OVERSQLITE_TEST_DB=pglite` to run on PGlite instead of PostgreSQL.
 * Companions: `sync-client.ts` (RawSyncClient: one method per endpoint, never throws on HTTP
 * errors), `sse-reader.ts` (reads `/sync/watch` frames), `sample-schema.ts` (the schema SQL and
 * table list to mirror locally), `test-database.ts` (a fresh database per test file).
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '../../server/adapters/index.ts';
import { createJwtAuth } from '../../server/auth/index.ts';
import { createSyncServer } from '../../server/index.ts';
import { applyCors } from '../../server/reference/cors.ts';
import type { SyncServer } from '../../server/index.ts';
import type { SqlDatabase } from '../../server/database/types.ts';
import type { RegisteredTable, SyncLimits, SyncServerOptions } from '../../server/runtime/options.ts';
import type { WireDialectOption } from '../../server/runtime/wire-dialect.ts';
import { SAMPLE_SCHEMA_SQL, SAMPLE_TABLES } from './sample-schema.ts';
import { createTestDatabase } from './test-database.ts';
import type { TestDatabase } from './test-database.ts';

export { SAMPLE_SCHEMA_SQL, SAMPLE_TABLES } from './sample-schema.ts';

/** The HS256 secret harness tokens are signed with. */
export const HARNESS_JWT_SECRET = 'oversqlite-harness-secret-0123456789abcdef';

/** Options of {@link startSyncServer}. */
export interface StartSyncServerOptions {
  tables?: RegisteredTable[];
  schemaSql?: string;
  watch?: SyncServerOptions['watch'];
  limits?: SyncLimits;
  retention?: SyncServerOptions['retention'];
  /** Mount path prefix, e.g. `/api`; `baseUrl` includes it. */
  basePath?: string;
  /** Name part of the created database. */
  purpose?: string;
  /** Wraps the database the runtime gets (fault injection, see `stage-gate.ts`); the schema is applied unwrapped. */
  wrapDatabase?: (db: SqlDatabase) => SqlDatabase;
  /**
   * Server `wireDialect` option. Default here `'jcs-numeric-strings'` (not the server's `'auto'`):
   * most tests drive RawSyncClient sessions without `canonical_request_hash`, which `'auto'` would
   * read as a go-oversync peer. Dialect tests pass `'auto'`.
   */
  wireDialect?: WireDialectOption;
  /** Server `oneRequestPush` option (default: the server's, offered). */
  oneRequestPush?: boolean;
  /** Server `onInternalError` option (default: the server's, `console.error`). */
  onInternalError?: SyncServerOptions['onInternalError'];
  /** Answer browsers on other origins as the reference server does (`server/reference/cors.ts`). Default off. */
  cors?: boolean;
}

/** A started harness server. */
export interface StartedSyncServer {
  /** `http://127.0.0.1:<port>` plus the base path, without a trailing slash. */
  baseUrl: string;
  /** A valid bearer token (1 h) for `userId`. */
  tokenFor(userId: string): string;
  server: SyncServer;
  /** The database the runtime uses. */
  database: SqlDatabase;
  testDatabase: TestDatabase;
  /** The node:http server (port 0). */
  http: Server;
  close(): Promise<void>;
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** Signs an HS256 JWT synchronously (same format `jose` verifies). */
export function signHarnessToken(userId: string, ttlSeconds = 3600, secret = HARNESS_JWT_SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ sub: userId, iat: now, nbf: now, exp: now + ttlSeconds }));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** Creates a database, applies the schema, starts the runtime and an HTTP listener on port 0. */
export async function startSyncServer(opts: StartSyncServerOptions = {}): Promise<StartedSyncServer> {
  const testDatabase = await createTestDatabase(opts.purpose ?? 'harness');
  let server: SyncServer | undefined;
  try {
    await testDatabase.exec(opts.schemaSql ?? SAMPLE_SCHEMA_SQL);
    server = await createSyncServer({
      database: opts.wrapDatabase ? opts.wrapDatabase(testDatabase.database) : testDatabase.database,
      tables: opts.tables ?? SAMPLE_TABLES,
      watch: opts.watch ?? { enabled: true, heartbeatMs: 1000 },
      limits: opts.limits,
      retention: opts.retention,
      basePath: opts.basePath,
      appName: 'oversqlite-harness',
      wireDialect: opts.wireDialect ?? 'jcs-numeric-strings',
      oneRequestPush: opts.oneRequestPush,
      onInternalError: opts.onInternalError,
    });
    const auth = createJwtAuth({ secret: HARNESS_JWT_SECRET });
    const sync = server;
    // Requests without credentials reach the handler as anonymous: /syncx/* is public and /sync/*
    // answers 401 authentication_failed itself. Presented tokens must verify.
    const authenticate = async (req: Request) => (req.headers.has('authorization') ? auth.authenticate(req) : { userId: null });
    const handler = toNodeHandler(sync.handle, authenticate);
    const http = createServer(
      opts.cors
        ? (req: IncomingMessage, res: ServerResponse) => {
            if (!applyCors(req, res)) handler(req, res);
          }
        : handler,
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    let closed = false;
    return {
      baseUrl: `http://127.0.0.1:${port}${opts.basePath ? opts.basePath.replace(/\/+$/, '') : ''}`,
      tokenFor: (userId) => signHarnessToken(userId),
      server,
      database: testDatabase.database,
      testDatabase,
      http,
      async close() {
        if (closed) return;
        closed = true;
        await sync.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await testDatabase.drop();
      },
    };
  } catch (err) {
    await server?.close().catch(() => {});
    await testDatabase.drop().catch(() => {});
    throw err;
  }
}
