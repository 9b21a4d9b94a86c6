/**
 * Wire types of the oversync protocol `v1` (uniform numeric-string value encoding).
 *
 * This is the one place where request and response shapes live; the worker (client) and the
 * server both import from here. Field names are the wire's snake_case names on purpose.
 *
 * Metadata counters (`bundle_seq`, `row_version`, `source_bundle_id`, ordinals, counts) are JSON
 * numbers on the wire. Column values inside `payload` follow `values.ts`: integers and reals are
 * canonical decimal strings so that int64 travels exactly.
 */

/** The protocol version string both sides emit and require. */
export const PROTOCOL_VERSION = 'v1' as const;

/** HTTP header that carries the source id on every authenticated `/sync/*` request. */
export const SOURCE_ID_HEADER = 'Oversync-Source-ID';

/** Row operation on the wire. */
export type WireOp = 'INSERT' | 'UPDATE' | 'DELETE';

/** A JSON value as it appears in a payload (after `JSON.parse`). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A row's wire payload: lowercase column name to encoded value (see `values.ts`). */
export type WirePayload = Record<string, JsonValue>;

/** A sync key on the wire: exactly one member, `{ <key column>: <string value> }`. */
export type WireKey = Record<string, string>;

/** A registered table as advertised by the server. */
export interface TableSpec {
  schema: string;
  table: string;
  /** Always exactly one column in v1. */
  sync_key_columns: string[];
}

/** `GET /sync/capabilities` features. Unknown features must be ignored by clients. */
export interface CapabilityFeatures {
  connect_lifecycle?: boolean;
  bundle_change_watch?: boolean;
  [feature: string]: boolean | undefined;
}

/** `GET /sync/capabilities` limits. Absent means "not advertised" (0 = unlimited for max_*). */
export interface BundleLimits {
  max_rows_per_bundle?: number;
  max_bytes_per_bundle?: number;
  max_bundles_per_pull?: number;
  default_rows_per_push_chunk?: number;
  max_rows_per_push_chunk?: number;
  push_session_ttl_seconds?: number;
  default_rows_per_committed_bundle_chunk?: number;
  max_rows_per_committed_bundle_chunk?: number;
  default_rows_per_snapshot_chunk?: number;
  max_rows_per_snapshot_chunk?: number;
  snapshot_session_ttl_seconds?: number;
  max_rows_per_snapshot_session?: number;
  max_bytes_per_snapshot_session?: number;
  default_bytes_per_snapshot_chunk?: number;
  max_bytes_per_snapshot_chunk?: number;
  max_bytes_per_snapshot_row?: number;
  snapshot_materialization_batch_rows?: number;
  snapshot_materialization_batch_bytes?: number;
  max_concurrent_snapshot_builds?: number;
  max_concurrent_snapshot_chunk_requests?: number;
  initialization_lease_ttl_seconds?: number;
}

/** Response of `GET /sync/capabilities`. */
export interface CapabilitiesResponse {
  protocol_version: string;
  schema_version: number;
  app_name?: string;
  registered_tables?: string[];
  registered_table_specs: TableSpec[];
  features: CapabilityFeatures;
  bundle_limits: BundleLimits;
  /**
   * Extensions of this project's server beyond the oversync protocol (absent from go-oversync and
   * from a server that offers none). A client uses one only when it is advertised here.
   */
  oversqlite_extensions?: OversqliteExtensions;
}

/** Extensions advertised in {@link CapabilitiesResponse.oversqlite_extensions}. */
export interface OversqliteExtensions {
  /**
   * `POST /sync/push-sessions` also takes the bundle's `rows` (as a chunk's, starting at ordinal
   * 0, all `planned_row_count` of them) with `commit: true`, and answers what the commit endpoint
   * answers (or `already_committed`, as a create does, when the bundle was committed before).
   */
  one_request_push?: OneRequestPushLimits;
}

/** Limits of the one-request push (see {@link OversqliteExtensions.one_request_push}). */
export interface OneRequestPushLimits {
  /** Most rows one such request may carry (the server's `max_rows_per_push_chunk`). */
  max_rows: number;
  /** Largest request body the server reads, in bytes. */
  max_request_bytes: number;
}

/** Request of `POST /sync/connect`. */
export interface ConnectRequest {
  has_local_pending_rows: boolean;
}

/** Outcome of `POST /sync/connect`. */
export type ConnectResolution = 'initialize_local' | 'initialize_empty' | 'remote_authoritative' | 'retry_later';

/** Response of `POST /sync/connect`. */
export interface ConnectResponse {
  resolution: ConnectResolution;
  initialization_id?: string;
  lease_expires_at?: string;
  retry_after_seconds?: number;
}

/** Request of `POST /sync/push-sessions`. */
export interface PushSessionCreateRequest {
  source_bundle_id: number;
  planned_row_count: number;
  /** SHA-256 (hex) of the canonical push request rows, see `hashes.ts`. */
  canonical_request_hash?: string;
  initialization_id?: string;
  /**
   * One-request push (only when the server advertises `oversqlite_extensions.one_request_push`):
   * all the bundle's rows, as one chunk starting at ordinal 0. Requires `commit: true` and
   * `canonical_request_hash`.
   */
  rows?: PushRow[];
  /** With `rows`: stage and commit in this request (answer: a commit's, see {@link PushCommitResponse}). */
  commit?: true;
}

/** Response of `POST /sync/push-sessions` when a new staging session was created. */
export interface PushSessionStagingResponse {
  status: 'staging';
  push_id: string;
  planned_row_count: number;
  next_expected_row_ordinal: number;
  canonical_request_hash?: string;
}

/** Metadata of a committed bundle (commit response, already-committed create, committed rows). */
export interface CommittedBundleMeta {
  bundle_seq: number;
  source_id: string;
  source_bundle_id: number;
  row_count: number;
  bundle_hash: string;
  canonical_request_hash?: string;
}

/** Response of `POST /sync/push-sessions` when the tuple is already committed. */
export interface PushSessionAlreadyCommittedResponse extends CommittedBundleMeta {
  status: 'already_committed';
}

export type PushSessionCreateResponse = PushSessionStagingResponse | PushSessionAlreadyCommittedResponse;

/** A row the client pushes. `payload` is absent for DELETE. */
export interface PushRow {
  schema: string;
  table: string;
  key: WireKey;
  op: WireOp;
  base_row_version: number;
  payload?: WirePayload;
}

/** Request of `POST /sync/push-sessions/{push_id}/chunks`. */
export interface PushChunkRequest {
  start_row_ordinal: number;
  rows: PushRow[];
}

/** Response of `POST /sync/push-sessions/{push_id}/chunks`. */
export interface PushChunkResponse {
  push_id: string;
  next_expected_row_ordinal: number;
}

/** Response of `POST /sync/push-sessions/{push_id}/commit`. */
export type PushCommitResponse = CommittedBundleMeta;

/** A committed row (pull bundles and committed-bundle rows). `payload` is absent/null for DELETE. */
export interface BundleRow {
  schema: string;
  table: string;
  key: WireKey;
  op: WireOp;
  row_version: number;
  payload?: WirePayload | null;
}

/** Response of `GET /sync/committed-bundles/{bundle_seq}/rows`. */
export interface CommittedBundleRowsResponse extends CommittedBundleMeta {
  rows: BundleRow[];
  /** Ordinal (0-based) of the last row returned; echoes `after_row_ordinal` (or 0) when empty. */
  next_row_ordinal: number;
  has_more: boolean;
}

/** One complete committed bundle in a pull response. */
export interface PullBundle {
  bundle_seq: number;
  source_id: string;
  source_bundle_id: number;
  row_count?: number;
  bundle_hash?: string;
  rows: BundleRow[];
}

/** Response of `GET /sync/pull`. */
export interface PullResponse {
  stable_bundle_seq: number;
  bundles: PullBundle[];
  has_more: boolean;
}

/** Why a source is being replaced during a rotated rebuild. */
export type SourceReplacementReason = 'history_pruned' | 'source_sequence_out_of_order' | 'source_sequence_changed' | 'source_retired';

/** Request of `POST /sync/snapshot-sessions` (empty body or `{}` = keep-source). */
export interface SnapshotSessionCreateRequest {
  source_replacement?: {
    previous_source_id: string;
    new_source_id: string;
    reason: SourceReplacementReason;
  };
}

/** Response of `POST /sync/snapshot-sessions`. */
export interface SnapshotSessionResponse {
  snapshot_id: string;
  snapshot_bundle_seq: number;
  row_count: number;
  byte_count: number;
  expires_at: string;
}

/** A live row in a snapshot (no op; payload always present). */
export interface SnapshotRow {
  schema: string;
  table: string;
  key: WireKey;
  row_version: number;
  payload: WirePayload;
}

/** Response of `GET /sync/snapshot-sessions/{snapshot_id}`. */
export interface SnapshotChunkResponse {
  snapshot_id: string;
  snapshot_bundle_seq: number;
  rows: SnapshotRow[];
  /** 1-based ordinal of the last row returned (`after + rows.length`). */
  next_row_ordinal: number;
  /** Sum of the canonical payload byte lengths of the rows in this chunk. */
  byte_count: number;
  has_more: boolean;
}

/** Data of an SSE `event: bundle` frame on `GET /sync/watch`. */
export interface WatchBundleEvent {
  bundle_seq: number;
  source_id?: string;
  source_bundle_id?: number;
}

/** The conflict detail of a `409 push_conflict` response. */
export interface PushConflictDetail {
  schema: string;
  table: string;
  key: WireKey;
  op: WireOp;
  base_row_version: number;
  server_row_version: number;
  server_row_deleted: boolean;
  server_row: WirePayload | null;
}

/** `GET /syncx/status` and `GET /syncx/health`. */
export interface StatusResponse {
  status: 'healthy' | 'unhealthy';
  version: string;
  app_name: string;
  lifecycle: 'running' | 'shutting_down' | 'closed';
  accepting_operations: boolean;
  inflight_operations: number;
  registered_tables: string[];
  features: CapabilityFeatures;
  user_state_retention_floor_ahead_count: number;
  latest_bundle_seq_max: number;
  retained_bundle_floor_min: number;
  retained_bundle_floor_max: number;
  retained_bundle_window_min: number;
  retained_bundle_window_max: number;
  history_pruned_error_count: number;
  accepted_push_replay_count: number;
  rejected_registered_write_count: number;
  committed_bundle_count: number;
  committed_bundle_bytes: number;
}

/** Development sign-in of the reference servers (ours and go-oversync's example): `POST /dummy-signin`. */
export interface DummySigninRequest {
  user: string;
  password: string;
}

/** Response of `POST /dummy-signin`: a bearer token for `user`, valid `expires_in` seconds. */
export interface DummySigninResponse {
  token: string;
  expires_in: number;
  user: string;
}

/** Paths of the protocol, relative to the server's base URL. */
export const SyncPaths = {
  capabilities: '/sync/capabilities',
  connect: '/sync/connect',
  pushSessions: '/sync/push-sessions',
  pushChunks: (pushId: string) => `/sync/push-sessions/${encodeURIComponent(pushId)}/chunks`,
  pushCommit: (pushId: string) => `/sync/push-sessions/${encodeURIComponent(pushId)}/commit`,
  pushSession: (pushId: string) => `/sync/push-sessions/${encodeURIComponent(pushId)}`,
  committedRows: (bundleSeq: number) => `/sync/committed-bundles/${bundleSeq}/rows`,
  pull: '/sync/pull',
  snapshotSessions: '/sync/snapshot-sessions',
  snapshotSession: (snapshotId: string) => `/sync/snapshot-sessions/${encodeURIComponent(snapshotId)}`,
  watch: '/sync/watch',
  health: '/syncx/health',
  status: '/syncx/status',
} as const;
