/**
 * `oversqlite/protocol`: the oversync v1 wire shapes and error codes, for apps that talk to the
 * sync routes themselves (a proxy, a custom transport, a test) or branch on an error envelope.
 * The codecs, canonical JSON and hashes stay inside the package (`protocol/index.ts` is the
 * package's own barrel, not an entry).
 * @packageDocumentation
 */
export { PROTOCOL_VERSION, SOURCE_ID_HEADER, SyncPaths } from './wire.ts';
export type {
  BundleLimits,
  BundleRow,
  CapabilitiesResponse,
  CapabilityFeatures,
  CommittedBundleMeta,
  CommittedBundleRowsResponse,
  ConnectRequest,
  ConnectResolution,
  ConnectResponse,
  DummySigninRequest,
  DummySigninResponse,
  JsonValue,
  OneRequestPushLimits,
  OversqliteExtensions,
  PullBundle,
  PullResponse,
  PushChunkRequest,
  PushChunkResponse,
  PushCommitResponse,
  PushConflictDetail,
  PushRow,
  PushSessionAlreadyCommittedResponse,
  PushSessionCreateRequest,
  PushSessionCreateResponse,
  PushSessionStagingResponse,
  SnapshotChunkResponse,
  SnapshotRow,
  SnapshotSessionCreateRequest,
  SnapshotSessionResponse,
  SourceReplacementReason,
  StatusResponse,
  TableSpec,
  WatchBundleEvent,
  WireKey,
  WireOp,
  WirePayload,
} from './wire.ts';
export { isWireErrorCode, statusForWireError } from './errors.ts';
export type {
  ErrorResponse,
  PushConflictResponse,
  PushRejectedResponse,
  PushRejectionDetail,
  PushRejectionReason,
  SourceRetiredResponse,
  WireErrorCode,
} from './errors.ts';
export { WIRE_DIALECTS } from './dialect.ts';
export type { WireDialect } from './dialect.ts';
