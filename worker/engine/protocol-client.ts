/**
 * One function per protocol request: exact method, path, query and body (pinned by
 * `protocol-http/requests.json`). Response validation lives with the step that uses the answer
 * (push, pull, snapshot, lifecycle); this module only shapes requests.
 */
import { SyncPaths } from '../../protocol/index.ts';
import type {
  CapabilitiesResponse,
  CommittedBundleRowsResponse,
  ConnectResponse,
  PushChunkResponse,
  PushCommitResponse,
  PushRow,
  PushSessionAlreadyCommittedResponse,
  PushSessionCreateResponse,
  SnapshotSessionResponse,
  SourceReplacementReason,
} from '../../protocol/index.ts';
import type { RequestSpec, SyncTransport } from './transport.ts';

export function getCapabilities(t: SyncTransport): Promise<CapabilitiesResponse> {
  return t.json({ method: 'GET', path: SyncPaths.capabilities });
}

export function connect(t: SyncTransport, hasLocalPendingRows: boolean): Promise<ConnectResponse> {
  return t.json({ method: 'POST', path: SyncPaths.connect, body: { has_local_pending_rows: hasLocalPendingRows } });
}

/** The pull request (its answer is a `PullResponse`). */
export function pullRequest(afterBundleSeq: number, maxBundles: number, targetBundleSeq?: number): RequestSpec {
  return {
    method: 'GET',
    path: SyncPaths.pull,
    query: { after_bundle_seq: afterBundleSeq, max_bundles: maxBundles, target_bundle_seq: targetBundleSeq || undefined },
  };
}

/** What a push-session create says about the bundle. */
interface PushSessionRequest {
  sourceBundleId: number;
  plannedRowCount: number;
  canonicalRequestHash: string;
  initializationId?: string | null;
}

/** The body of a push-session create. */
function pushSessionBody(req: PushSessionRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    source_bundle_id: req.sourceBundleId,
    planned_row_count: req.plannedRowCount,
    canonical_request_hash: req.canonicalRequestHash,
  };
  if (req.initializationId) body.initialization_id = req.initializationId;
  return body;
}

export function createPushSession(t: SyncTransport, req: PushSessionRequest): Promise<PushSessionCreateResponse> {
  return t.json({ method: 'POST', path: SyncPaths.pushSessions, body: pushSessionBody(req) });
}

/**
 * One-request push (our server's extension `oversqlite_extensions.one_request_push`): the create
 * with all the bundle's rows (`rowsJson`, the JSON text of the rows array) and `commit: true`.
 * Answers as a commit does, or `already_committed` as a create does.
 */
export function pushInOneRequest(
  t: SyncTransport,
  req: PushSessionRequest,
  rowsJson: string,
): Promise<PushCommitResponse | PushSessionAlreadyCommittedResponse> {
  return t.json({
    method: 'POST',
    path: SyncPaths.pushSessions,
    rawBody: `${JSON.stringify(pushSessionBody(req)).slice(0, -1)},"commit":true,"rows":${rowsJson}}`,
  });
}

export function uploadPushChunk(t: SyncTransport, pushId: string, startRowOrdinal: number, rows: PushRow[]): Promise<PushChunkResponse> {
  return t.json({ method: 'POST', path: SyncPaths.pushChunks(pushId), body: { start_row_ordinal: startRowOrdinal, rows } });
}

/**
 * The same request as `uploadPushChunk` with the rows already serialized: `rowsJson` is the JSON
 * text of the rows array (the push path builds it from each row's canonical text).
 */
export function uploadPushChunkText(
  t: SyncTransport,
  pushId: string,
  startRowOrdinal: number,
  rowsJson: string,
): Promise<PushChunkResponse> {
  return t.json({
    method: 'POST',
    path: SyncPaths.pushChunks(pushId),
    rawBody: `{"start_row_ordinal":${startRowOrdinal},"rows":${rowsJson}}`,
  });
}

export function commitPushSession(t: SyncTransport, pushId: string): Promise<PushCommitResponse> {
  return t.json({ method: 'POST', path: SyncPaths.pushCommit(pushId) });
}

/** Best-effort cleanup; never throws. */
export function deletePushSession(t: SyncTransport, pushId: string): void {
  t.json({ method: 'DELETE', path: SyncPaths.pushSession(pushId), retry: false }).catch(() => {});
}

export function fetchCommittedRows(
  t: SyncTransport,
  bundleSeq: number,
  afterRowOrdinal: number | undefined,
  maxRows: number,
): Promise<CommittedBundleRowsResponse> {
  return t.json({
    method: 'GET',
    path: SyncPaths.committedRows(bundleSeq),
    query: { after_row_ordinal: afterRowOrdinal, max_rows: maxRows },
  });
}

export function createSnapshotSession(
  t: SyncTransport,
  replacement?: { previousSourceId: string; newSourceId: string; reason: SourceReplacementReason },
): Promise<SnapshotSessionResponse> {
  const body = replacement
    ? {
        source_replacement: {
          previous_source_id: replacement.previousSourceId,
          new_source_id: replacement.newSourceId,
          reason: replacement.reason,
        },
      }
    : undefined;
  return t.json({ method: 'POST', path: SyncPaths.snapshotSessions, body });
}

/** The snapshot chunk request (its answer is a `SnapshotChunkResponse`). */
export function snapshotChunkRequest(snapshotId: string, afterRowOrdinal: number, maxRows: number, maxBytes: number): RequestSpec {
  return {
    method: 'GET',
    path: SyncPaths.snapshotSession(snapshotId),
    query: { after_row_ordinal: afterRowOrdinal, max_rows: maxRows, max_bytes: maxBytes },
  };
}

/** Best-effort cleanup; never throws. */
export function deleteSnapshotSession(t: SyncTransport, snapshotId: string): void {
  t.json({ method: 'DELETE', path: SyncPaths.snapshotSession(snapshotId), retry: false }).catch(() => {});
}

export function openWatch(t: SyncTransport, afterBundleSeq: number, signal: AbortSignal): Promise<Response> {
  return t.send({ method: 'GET', path: SyncPaths.watch, query: { after_bundle_seq: afterBundleSeq }, signal, retry: false });
}
