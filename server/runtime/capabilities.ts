/** `GET /sync/capabilities`: protocol version, registered tables, features and limits. */
import { PROTOCOL_VERSION } from '../../protocol/wire.ts';
import type { BundleLimits, CapabilitiesResponse, CapabilityFeatures } from '../../protocol/wire.ts';
import type { RuntimeContext } from './context.ts';
import { oneRequestPushLimits } from './one-request-push.ts';
import type { ResolvedLimits } from './options.ts';

/** Feature flags this runtime implements; `bundle_change_watch` depends on configuration and policy. */
export function featureFlags(watchEnabled: boolean): CapabilityFeatures {
  return {
    bundle_pull: true,
    push_session_chunking: true,
    committed_bundle_row_fetch: true,
    snapshot_chunking: true,
    status_endpoint: true,
    graceful_shutdown: true,
    capabilities_endpoint: true,
    server_checkpoint_tracking: false,
    history_pruned_errors: true,
    bundle_push: true,
    structured_sync_keys: true,
    registered_write_rejection_enforced: true,
    accepted_push_replay_visibility: true,
    committed_bundle_visibility: true,
    retained_floor_visibility: true,
    retained_window_visibility: true,
    history_pruned_visibility: true,
    connect_lifecycle: true,
    scope_initialization_leases: true,
    bundle_change_watch: watchEnabled,
  };
}

/** Advertised limits (zero-valued "unlimited" session limits are omitted, as go-oversync does). */
function bundleLimits(l: ResolvedLimits): BundleLimits {
  const limits: BundleLimits = {
    max_bundles_per_pull: l.maxBundlesPerPull,
    default_rows_per_push_chunk: l.defaultRowsPerPushChunk,
    max_rows_per_push_chunk: l.maxRowsPerPushChunk,
    push_session_ttl_seconds: l.pushSessionTtlSeconds,
    default_rows_per_committed_bundle_chunk: l.defaultRowsPerCommittedBundleChunk,
    max_rows_per_committed_bundle_chunk: l.maxRowsPerCommittedBundleChunk,
    default_rows_per_snapshot_chunk: l.defaultRowsPerSnapshotChunk,
    max_rows_per_snapshot_chunk: l.maxRowsPerSnapshotChunk,
    snapshot_session_ttl_seconds: l.snapshotSessionTtlSeconds,
    default_bytes_per_snapshot_chunk: l.defaultBytesPerSnapshotChunk,
    max_bytes_per_snapshot_chunk: l.maxBytesPerSnapshotChunk,
    max_bytes_per_snapshot_row: l.maxBytesPerSnapshotRow,
    snapshot_materialization_batch_rows: l.snapshotMaterializationBatchRows,
    snapshot_materialization_batch_bytes: l.snapshotMaterializationBatchBytes,
    max_concurrent_snapshot_builds: l.maxConcurrentSnapshotBuilds,
    max_concurrent_snapshot_chunk_requests: l.maxConcurrentSnapshotChunkRequests,
    initialization_lease_ttl_seconds: l.initializationLeaseTtlSeconds,
  };
  if (l.maxRowsPerSnapshotSession > 0) limits.max_rows_per_snapshot_session = l.maxRowsPerSnapshotSession;
  if (l.maxBytesPerSnapshotSession > 0) limits.max_bytes_per_snapshot_session = l.maxBytesPerSnapshotSession;
  return limits;
}

/** The capabilities document. */
export function capabilitiesDocument(
  ctx: RuntimeContext,
  appName: string,
  schemaVersion: number,
  watchEnabled: boolean,
): CapabilitiesResponse {
  const { catalog, limits } = ctx;
  const document: CapabilitiesResponse = {
    protocol_version: PROTOCOL_VERSION,
    schema_version: schemaVersion,
    app_name: appName,
    registered_tables: catalog.tables.map((t) => t.qualifiedName),
    registered_table_specs: catalog.tables.map((t) => ({ schema: t.schema, table: t.table, sync_key_columns: [t.keyColumn] })),
    features: featureFlags(watchEnabled),
    bundle_limits: bundleLimits(limits),
  };
  // Only our extensions, only when offered: a server without them answers exactly the protocol.
  const oneRequestPush = oneRequestPushLimits(ctx);
  if (oneRequestPush) document.oversqlite_extensions = { one_request_push: oneRequestPush };
  return document;
}
