/**
 * The oversqlite reference server: the sync protocol for the sample schema, a development sign-in,
 * CORS, per-request logging and graceful shutdown, on real PostgreSQL (`databaseUrl`) or embedded
 * PGlite. `main.ts` runs it from environment variables; tests and the demo start it in-process.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '../adapters/node-http.ts';
import type { Authenticate, FetchHandler } from '../adapters/types.ts';
import { createJwtAuth } from '../auth/jwt-auth.ts';
import { createPgliteDatabase } from '../database/pglite.ts';
import { createPostgresDatabase } from '../database/postgres.ts';
import type { SqlDatabase } from '../database/types.ts';
import { createSyncServer } from '../index.ts';
import type { SyncServer } from '../index.ts';
import { applyCors } from './cors.ts';
import { dummySignin } from './dummy-signin.ts';
import { noteAuthenticatedUser, withRequestLog } from './request-log.ts';
import { SAMPLE_TABLES, applySampleSchema } from './sample-schema.ts';
import { serveTestHook } from './test-hooks.ts';

/** The go-oversync example server's default secret, so its tools work against this server unchanged. */
export const DEV_JWT_SECRET = 'your-secret-key-change-in-production';

/** Default PGlite data directory (relative to the working directory), so demo data survives restarts. */
export const DEFAULT_PGLITE_DIR = '.pglite';

/** How to run the reference server. Every field is optional. */
export interface ReferenceServerOptions {
  /** TCP port (8080). 0 picks a free port; read it back from `url`/`port`. */
  port?: number;
  /** Interface to listen on (all interfaces). */
  host?: string;
  /** A PostgreSQL connection string. Without it the server runs on embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data directory (`.pglite`); `'memory://'` keeps the database in memory only. */
  pgliteDir?: string;
  /** HS256 secret for tokens (default {@link DEV_JWT_SECRET}, with a warning). */
  jwtSecret?: string;
  /** Mount the `/test/*` hooks (off). */
  testHooks?: boolean;
  /** Watch-stream heartbeat interval in ms (the runtime default, 25 s). */
  watchHeartbeatMs?: number;
  /** Where log lines go (`console.log`). */
  log?: (line: string) => void;
}

/** A running reference server. */
export interface ReferenceServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly port: number;
  /** The sync runtime (for server-originated writes from the host process). */
  readonly sync: SyncServer;
  /**
   * Graceful stop: refuses new connections, lets in-flight requests finish (new requests on open
   * connections get `503 service_unavailable`), ends watch streams, closes the database.
   */
  close(): Promise<void>;
}

/** Paths that need no token: sign-in, health and status probes, CORS preflights, test hooks. */
function isPublic(request: Request, testHooks: boolean): boolean {
  const path = new URL(request.url).pathname;
  if (request.method === 'OPTIONS') return true;
  if (path === '/dummy-signin' || path === '/syncx/health' || path === '/syncx/status') return true;
  return testHooks && path.startsWith('/test/');
}

async function openDatabase(options: ReferenceServerOptions): Promise<SqlDatabase> {
  if (options.databaseUrl) return createPostgresDatabase({ connectionString: options.databaseUrl });
  const dir = options.pgliteDir ?? DEFAULT_PGLITE_DIR;
  return createPgliteDatabase(dir === 'memory://' ? {} : { dataDir: dir });
}

function listen(server: Server, port: number, host: string | undefined): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Starts the reference server. */
export async function startReferenceServer(options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const jwtSecret = options.jwtSecret ?? DEV_JWT_SECRET;
  if (options.jwtSecret === undefined) {
    log(`WARNING: JWT_SECRET is not set; using the public development secret "${DEV_JWT_SECRET}". Anyone can mint tokens for this server.`);
  }
  const testHooks = options.testHooks === true;
  const db = await openDatabase(options);
  let sync: SyncServer;
  try {
    await applySampleSchema(db);
    sync = await createSyncServer({
      database: db,
      tables: [...SAMPLE_TABLES],
      appName: 'oversqlite-reference',
      watch: { enabled: true, ...(options.watchHeartbeatMs !== undefined ? { heartbeatMs: options.watchHeartbeatMs } : {}) },
      onInternalError: (err, where) => log(`ERROR ${where}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
    });
  } catch (err) {
    await db.close();
    throw err;
  }

  const jwt = createJwtAuth({ secret: jwtSecret });
  const authenticate: Authenticate = async (request) => {
    if (isPublic(request, testHooks)) return { userId: null };
    const { userId } = await jwt.authenticate(request);
    noteAuthenticatedUser(userId);
    return { userId };
  };
  const handle: FetchHandler = async (request, auth) => {
    const path = new URL(request.url).pathname;
    if (path === '/dummy-signin') return dummySignin(request, jwtSecret);
    if (testHooks) {
      const answered = await serveTestHook(request, sync, SAMPLE_TABLES);
      if (answered) return answered;
    }
    return sync.handle(request, auth);
  };
  const serveSync = toNodeHandler(handle, authenticate, {
    onError: (err, request) =>
      log(`ERROR ${request.method} ${new URL(request.url).pathname}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
  });

  const server = createServer((req, res) => {
    withRequestLog(req, res, log, () => {
      if (applyCors(req, res)) return;
      serveSync(req, res);
    });
  });
  let address: AddressInfo;
  try {
    address = await listen(server, options.port ?? 8080, options.host);
  } catch (err) {
    await sync.close();
    await db.close();
    throw err;
  }
  const host =
    address.family === 'IPv6'
      ? address.address === '::'
        ? '127.0.0.1'
        : `[${address.address}]`
      : address.address === '0.0.0.0'
        ? '127.0.0.1'
        : address.address;
  const url = `http://${host}:${address.port}`;
  log(
    `oversqlite reference server on ${url} (${options.databaseUrl ? 'PostgreSQL' : `PGlite ${options.pgliteDir ?? DEFAULT_PGLITE_DIR}`}${testHooks ? ', test hooks on' : ''})`,
  );

  let closing: Promise<void> | null = null;
  return {
    url,
    port: address.port,
    sync,
    close() {
      closing ??= (async () => {
        // Stop accepting; idle keep-alive connections close now, busy ones when their response ends.
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Finishes in-flight work, ends watch streams, and answers 503 meanwhile.
        await sync.close();
        server.closeIdleConnections();
        const lingering = setTimeout(() => server.closeAllConnections(), 5_000);
        await serverClosed;
        clearTimeout(lingering);
        await db.close();
      })();
      return closing;
    },
  };
}
