/**
 * `oversqlite/server`: the oversync protocol over PostgreSQL (or PGlite) as a framework-neutral
 * fetch-style handler.
 *
 * ```ts
 * const sync = await createSyncServer({
 *   database: { connectionString: process.env.DATABASE_URL! },
 *   tables: [{ schema: 'business', table: 'users', syncKey: 'id' }],
 * });
 * // in any HTTP framework, after authenticating the request:
 * const response = await sync.handle(request, { userId });
 * ```
 * @packageDocumentation
 */
import type { CommittedBundleMeta } from '../protocol/wire.ts';
import { createPostgresDatabase } from './database/postgres.ts';
import type { SqlDatabase, SqlSession } from './database/types.ts';
import { createSyncHandler } from './http/sync-handler.ts';
import { bootstrapSyncSchema } from './runtime/bootstrap.ts';
import { adoptPreexistingRows } from './runtime/adoption.ts';
import { CapacityGate } from './runtime/capacity.ts';
import { capabilitiesDocument, featureFlags } from './runtime/capabilities.ts';
import { loadCatalog, normalizeRegisteredTables, quoteLiteral } from './runtime/catalog.ts';
import type { RuntimeContext } from './runtime/context.ts';
import { SnapshotBuildTracker } from './runtime/snapshot-build-tracker.ts';
import { resolveLimits, resolveWireDialect } from './runtime/options.ts';
import type { SyncServerOptions } from './runtime/options.ts';
import { pruneUserHistory, writeAsUser } from './runtime/server-writes.ts';
import { readStatus } from './runtime/status.ts';
import { BundleChangeHub } from './watch/bundle-change-hub.ts';

export type { SyncServerOptions, RegisteredTable, SyncLimits } from './runtime/options.ts';
export type { WireDialectOption } from './runtime/wire-dialect.ts';
export type { WireDialect } from '../protocol/dialect.ts';
export type { SqlDatabase, SqlSession, SqlQueryResult } from './database/types.ts';
export type { CommittedBundleMeta } from '../protocol/wire.ts';
export { createPostgresDatabase } from './database/postgres.ts';
export type { PostgresDatabaseOptions } from './database/postgres.ts';
export { SyncServerError } from './runtime/sync-error.ts';
export { SyncSchemaError } from './runtime/layout.ts';
export type { SyncSchemaErrorCode } from './runtime/layout.ts';
export * from './auth/index.ts';
export * from './adapters/index.ts';
export { createPgliteDatabase, PgliteDatabaseError } from './database/pglite.ts';
export type { PgliteDatabaseOptions, PgliteDatabaseErrorCode } from './database/pglite.ts';

/** Default LISTEN/NOTIFY channel of bundle-change events. */
export const DEFAULT_WATCH_CHANNEL = 'oversync_bundle_change_v1';

/** A running sync server. */
export interface SyncServer {
  /** Serves every /sync/* and /syncx/* route; `userId` is the host-authenticated user or null. Other paths: 404 JSON. */
  handle(request: Request, auth: { userId: string | null }): Promise<Response>;
  /** Server-originated write as one captured bundle (auto-initializes the scope). */
  writeAs<T>(
    userId: string,
    writerSourceId: string,
    fn: (tx: SqlSession) => Promise<T>,
  ): Promise<{ result: T; bundle: CommittedBundleMeta }>;
  /** Retention: raise a user's retained floor now (ops + tests of history_pruned). */
  pruneHistory(userId: string, floor: number): Promise<void>;
  /**
   * Open watch streams (`GET /sync/watch`) of `userId` in this process; 0 when watch is disabled.
   * (go-oversync exposes the same count as `BundleChangeSubscriberCountForTest`.)
   */
  bundleChangeSubscriberCount(userId: string): number;
  /** The database the server runs on. */
  readonly database: SqlDatabase;
  /** Drains in-flight work, closes watch streams, stops LISTEN, closes a database the server created; 503 afterwards. */
  close(): Promise<void>;
}

/** Bootstraps the `sync` schema and triggers for the registered tables and returns the server. */
export async function createSyncServer(options: SyncServerOptions): Promise<SyncServer> {
  const ownsDatabase = !('query' in options.database);
  const db: SqlDatabase = 'query' in options.database ? options.database : createPostgresDatabase(options.database);
  try {
    const tables = normalizeRegisteredTables(options.tables);
    const catalog = await db.withConnection(async (session) => {
      const c = await loadCatalog(session, tables);
      await bootstrapSyncSchema(session, c);
      return c;
    });
    const limits = resolveLimits(options.limits);
    const channel = options.watch?.channel ?? DEFAULT_WATCH_CHANNEL;
    if (Buffer.byteLength(channel) > 63) throw new Error('watch.channel must be at most 63 bytes');
    const onInternalError =
      options.onInternalError ?? ((err: unknown, where: string) => console.error(`[oversqlite/server] ${where}:`, err));
    // Announcements still being sent (close waits for them before the database goes).
    const announcing = new Set<Promise<void>>();
    const ctx: RuntimeContext = {
      db,
      catalog,
      limits,
      retention: {
        retainedBundlesPerUser: options.retention?.retainedBundlesPerUser ?? 10_000,
        pruneBatchSize: options.retention?.pruneBatchSize ?? 1_000,
      },
      notifyChannel: channel,
      announceCommitted(userId, meta) {
        const payload = JSON.stringify({
          user_id: userId,
          bundle_seq: meta.bundle_seq,
          source_id: meta.source_id,
          source_bundle_id: meta.source_bundle_id,
        });
        const sent = db
          .query(`BEGIN; SET LOCAL synchronous_commit TO off; SELECT pg_notify(${quoteLiteral(channel)}, ${quoteLiteral(payload)}); COMMIT`)
          .then(
            () => undefined,
            (err: unknown) => onInternalError(err, 'bundle change notification'),
          );
        announcing.add(sent);
        void sent.finally(() => announcing.delete(sent));
      },
      wireDialect: resolveWireDialect(options.wireDialect),
      oneRequestPush: options.oneRequestPush ?? true,
      snapshotBuilds: new SnapshotBuildTracker(),
      onInternalError,
    };
    // Rows that predate the first bootstrap become one baseline bundle per user (idempotent).
    await adoptPreexistingRows(ctx);
    const watchEnabled = options.watch?.enabled === true;
    const allow = options.watch?.allow ?? (() => true);
    const hub = watchEnabled ? new BundleChangeHub(db, channel) : null;
    if (hub) await hub.start();

    const appName = options.appName ?? 'oversqlite';
    const schemaVersion = options.schemaVersion ?? 1;
    let lifecycle: 'running' | 'shutting_down' | 'closed' = 'running';
    let inflight = 0;
    let drained: (() => void) | null = null;
    const streamClosers = new Set<() => void>();
    const enter = () => {
      if (lifecycle !== 'running') return false;
      inflight++;
      return true;
    };
    const leave = () => {
      inflight--;
      if (inflight === 0 && drained) drained();
    };
    const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
      if (!enter()) throw new Error('the sync server is closed');
      try {
        return await fn();
      } finally {
        leave();
      }
    };

    const handle = createSyncHandler({
      ctx,
      basePath: options.basePath ? options.basePath.replace(/\/+$/, '') : null,
      snapshotBuilds: new CapacityGate(limits.maxConcurrentSnapshotBuilds),
      snapshotChunkReads: new CapacityGate(limits.maxConcurrentSnapshotChunkRequests),
      watch: { enabled: watchEnabled, heartbeatMs: options.watch?.heartbeatMs ?? 25_000, allow, hub },
      capabilities: (userId) => capabilitiesDocument(ctx, appName, schemaVersion, watchEnabled && (userId === null || allow(userId))),
      status: () =>
        readStatus(db, {
          appName,
          lifecycle,
          inflight,
          registeredTables: catalog.tables.map((t) => t.qualifiedName),
          features: featureFlags(watchEnabled),
        }),
      enter,
      leave,
      registerStreamCloser: (close) => {
        streamClosers.add(close);
        return () => streamClosers.delete(close);
      },
      onInternalError,
    });

    return {
      handle,
      database: db,
      writeAs: (userId, writerSourceId, fn) => guarded(() => writeAsUser(ctx, userId, writerSourceId, fn)),
      pruneHistory: (userId, floor) => guarded(() => pruneUserHistory(ctx, userId, floor)),
      bundleChangeSubscriberCount: (userId) => hub?.subscriberCountOf(userId) ?? 0,
      async close() {
        if (lifecycle !== 'running') return;
        lifecycle = 'shutting_down';
        for (const close of [...streamClosers]) close();
        // Builds stop now (pieces in progress cancelled), so chunk reads waiting for them end too.
        const buildsStopped = ctx.snapshotBuilds.stop();
        if (inflight > 0) await new Promise<void>((resolve) => (drained = resolve));
        await Promise.all([...announcing]);
        await buildsStopped;
        if (hub) await hub.stop();
        lifecycle = 'closed';
        if (ownsDatabase) await db.close();
      },
    };
  } catch (err) {
    if (ownsDatabase) await db.close().catch(() => {});
    throw err;
  }
}
