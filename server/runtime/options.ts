/**
 * Options of the sync runtime and their defaults (the go-oversync defaults unless noted).
 */
import type { SqlDatabase } from '../database/types.ts';
import type { WireDialectOption } from './wire-dialect.ts';

/** A business table whose rows sync. The table needs a `_sync_scope_id TEXT NOT NULL` column. */
export interface RegisteredTable {
  schema: string;
  table: string;
  /** The one sync key column: `uuid` or `text`, unique together with `_sync_scope_id`. */
  syncKey: string;
}

/** Tunable limits; every field is optional. */
export interface SyncLimits {
  /** Advertised default rows per push chunk (5000; go-oversync: 1000; fewer, larger requests push faster). */
  defaultRowsPerPushChunk?: number;
  /** Chunks with more rows are rejected with `push_chunk_invalid` (5000). */
  maxRowsPerPushChunk?: number;
  /** Push session time to live, refreshed by each chunk (900 s). */
  pushSessionTtlSeconds?: number;
  /** Default and cap of `max_rows` for committed-bundle row pages (5000 / 5000; go-oversync: 1000 / 5000). */
  defaultRowsPerCommittedBundleChunk?: number;
  maxRowsPerCommittedBundleChunk?: number;
  /** Default and cap of `max_bundles` for pull (1000 / 5000). */
  defaultBundlesPerPull?: number;
  maxBundlesPerPull?: number;
  /**
   * Default and cap of `max_rows` for snapshot chunks (5000 / 5000; go-oversync's default is 1000):
   * clients page with the advertised default, and at ~300 B a row 5000 rows are ~1.5 MB, well
   * inside the byte default, in a fifth of the round trips.
   */
  defaultRowsPerSnapshotChunk?: number;
  maxRowsPerSnapshotChunk?: number;
  /** Default and cap of `max_bytes` for snapshot chunks (4 MiB / 16 MiB). */
  defaultBytesPerSnapshotChunk?: number;
  maxBytesPerSnapshotChunk?: number;
  /**
   * The largest snapshot row served (defaults to `maxRequestBodyBytes`, so anything one push can
   * carry can be snapshotted). Pushed rows whose snapshot row would be larger are refused with
   * `400 push_chunk_invalid`; a larger row written by the server itself fails the snapshot build.
   */
  maxBytesPerSnapshotRow?: number;
  /** Snapshot session limits; 0 = unlimited (0 / 0). */
  maxRowsPerSnapshotSession?: number;
  maxBytesPerSnapshotSession?: number;
  /**
   * Snapshot sessions of more live rows than this are answered once their first this many rows
   * are built; the rest is built in the background in growing key-range pieces (twice the last
   * one, at most 4× this) while the client downloads, on PostgreSQL only and only without
   * `maxBytesPerSnapshotSession` (docs/server.md, "Snapshot build"). 0 = always build the whole
   * session before answering. (50,000)
   */
  snapshotBuildPieceRows?: number;
  /** Rows read per batch while materializing a snapshot (1000). */
  snapshotMaterializationBatchRows?: number;
  /** Advertised byte budget per materialization batch (4 MiB). */
  snapshotMaterializationBatchBytes?: number;
  /** Concurrent snapshot builds / chunk reads per process before `503 ..._capacity` (2 / 8). */
  maxConcurrentSnapshotBuilds?: number;
  maxConcurrentSnapshotChunkRequests?: number;
  /** Snapshot session time to live, not extended by reads (900 s). */
  snapshotSessionTtlSeconds?: number;
  /** Initialization lease time to live (900 s). */
  initializationLeaseTtlSeconds?: number;
  /** `Retry-After` seconds sent with capacity errors (1). */
  capacityRetryAfterSeconds?: number;
  /** Larger request bodies are refused before being buffered (32 MiB). */
  maxRequestBodyBytes?: number;
  /**
   * Rows one pull page may carry (whole bundles; the first bundle always fits): pages are built in
   * memory, so this bounds a pull's memory whatever `max_bundles` asks (25,000; 0 = unlimited).
   * Smaller pages also let a client apply one page while the server builds the next.
   */
  maxRowsPerPull?: number;
  /** Open push sessions one user may hold; more answer `429 push_session_capacity` (32; 0 = unlimited). */
  maxOpenPushSessionsPerUser?: number;
  /** Planned rows across one user's open push sessions; more answer `429 push_session_capacity` (2,000,000; 0 = unlimited). */
  maxStagedRowsPerUser?: number;
  /** Unexpired snapshot sessions one user may hold; more answer `503 snapshot_build_capacity` (8; 0 = unlimited). */
  maxSnapshotSessionsPerUser?: number;
  /**
   * Watch streams one user may hold open in one server process; more answer `429
   * bundle_change_watch_capacity` with `Retry-After` (32; 0 = unlimited).
   */
  maxWatchStreamsPerUser?: number;
}

/** Options of `createSyncServer`. */
export interface SyncServerOptions {
  /** A `SqlDatabase` (pg or PGlite), or a connection string for a pg pool the server owns. */
  database: SqlDatabase | { connectionString: string };
  /** Registered business tables. Frozen at first bootstrap. */
  tables: RegisteredTable[];
  /** Echoed in capabilities and status (`oversqlite`). */
  appName?: string;
  /** Echoed as `schema_version` in capabilities (1). */
  schemaVersion?: number;
  /** Path prefix the host mounts the handler under (e.g. `/api`). Without it, any prefix is accepted. */
  basePath?: string;
  /** The bundle-change watch stream (SSE) fanned out with LISTEN/NOTIFY. Off by default. */
  watch?: {
    enabled: boolean;
    /** NOTIFY channel (`oversync_bundle_change_v1`). */
    channel?: string;
    /** Heartbeat comment interval (25,000 ms). */
    heartbeatMs?: number;
    /** Host policy: may this user watch? Denied users get `403 bundle_change_watch_forbidden`. */
    allow?: (userId: string) => boolean;
  };
  /** History retention: keep this many bundles per user (10,000), move the floor at most this much per commit (1,000). */
  retention?: { retainedBundlesPerUser?: number; pruneBatchSize?: number };
  limits?: SyncLimits;
  /**
   * Wire dialect (`'auto'`): `'auto'` serves go-oversync 1f1118f peers (`go-json-numbers`: a push
   * session created without `canonical_request_hash`) and contract peers (`jcs-numeric-strings`)
   * from the same process and data; reads follow the requesting source's last push. Naming a
   * dialect forces it for every session and response. See docs/protocol-differences.md.
   */
  wireDialect?: WireDialectOption;
  /**
   * Offer the one-request push (`true`): a small bundle's create, rows and commit in one
   * `POST /sync/push-sessions`, advertised as `oversqlite_extensions.one_request_push` in
   * capabilities. Never offered when `wireDialect` forces `'go-json-numbers'`. `false` serves
   * exactly the oversync protocol. See docs/protocol-differences.md.
   */
  oneRequestPush?: boolean;
  /** Called with unexpected (500) errors; defaults to `console.error`. */
  onInternalError?: (err: unknown, context: string) => void;
}

/** Limits with every default filled in. */
export type ResolvedLimits = Required<SyncLimits>;

/** Fills in defaults. */
export function resolveLimits(limits: SyncLimits | undefined): ResolvedLimits {
  const resolved: Omit<ResolvedLimits, 'maxBytesPerSnapshotRow'> = {
    defaultRowsPerPushChunk: 5000,
    maxRowsPerPushChunk: 5000,
    pushSessionTtlSeconds: 900,
    defaultRowsPerCommittedBundleChunk: 5000,
    maxRowsPerCommittedBundleChunk: 5000,
    defaultBundlesPerPull: 1000,
    maxBundlesPerPull: 5000,
    defaultRowsPerSnapshotChunk: 5000,
    maxRowsPerSnapshotChunk: 5000,
    defaultBytesPerSnapshotChunk: 4 * 1024 * 1024,
    maxBytesPerSnapshotChunk: 16 * 1024 * 1024,
    maxRowsPerSnapshotSession: 0,
    maxBytesPerSnapshotSession: 0,
    snapshotBuildPieceRows: 50_000,
    snapshotMaterializationBatchRows: 1000,
    snapshotMaterializationBatchBytes: 4 * 1024 * 1024,
    maxConcurrentSnapshotBuilds: 2,
    maxConcurrentSnapshotChunkRequests: 8,
    snapshotSessionTtlSeconds: 900,
    initializationLeaseTtlSeconds: 900,
    capacityRetryAfterSeconds: 1,
    maxRequestBodyBytes: 32 * 1024 * 1024,
    maxRowsPerPull: 25_000,
    maxOpenPushSessionsPerUser: 32,
    maxStagedRowsPerUser: 2_000_000,
    maxSnapshotSessionsPerUser: 8,
    maxWatchStreamsPerUser: 32,
    ...Object.fromEntries(Object.entries(limits ?? {}).filter(([, v]) => v !== undefined)),
  };
  // Follows the body limit unless set: a row a push accepted must never make the user's snapshot fail.
  return { ...resolved, maxBytesPerSnapshotRow: limits?.maxBytesPerSnapshotRow ?? resolved.maxRequestBodyBytes };
}

/** Validates the `wireDialect` option (absent: `'auto'`). */
export function resolveWireDialect(option: WireDialectOption | undefined): WireDialectOption {
  if (option === undefined) return 'auto';
  if (option !== 'auto' && option !== 'go-json-numbers' && option !== 'jcs-numeric-strings') {
    throw new Error(`wireDialect must be 'auto', 'go-json-numbers' or 'jcs-numeric-strings', not ${JSON.stringify(option)}`);
  }
  return option;
}
