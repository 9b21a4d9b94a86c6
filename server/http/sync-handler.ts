/**
 * The framework-neutral HTTP surface: one handler serving every `/sync/*` and `/syncx/*` route on
 * the shapes of sync-exchange.ts, offered as a fetch-style function (the Node adapters call the
 * core directly). Authentication is the host's: it passes the trusted user id (or null).
 */
import { SOURCE_ID_HEADER } from '../../protocol/wire.ts';
import type { WireErrorCode } from '../../protocol/errors.ts';
import type { CapacityGate } from '../runtime/capacity.ts';
import { connectScope } from '../runtime/connect.ts';
import { transientDatabaseFault } from '../runtime/database-faults.ts';
import type { RuntimeContext } from '../runtime/context.ts';
import { pullBundles, readCommittedRows } from '../runtime/committed-rows.ts';
import {
  commitPushSession,
  createPushSession,
  deletePushSession,
  parsePushChunk,
  parsePushCreate,
  uploadPushChunk,
} from '../runtime/push-sessions.ts';
import { parseOneRequestPush, pushInOneRequest } from '../runtime/one-request-push.ts';
import { readUserScope, requireInitialized } from '../runtime/scope-state.ts';
import { createSnapshotSession, deleteSnapshotSession, parseSnapshotCreate, readSnapshotChunk } from '../runtime/snapshot-sessions.ts';
import type {
  CapabilitiesResponse,
  CommittedBundleMeta,
  PushSessionAlreadyCommittedResponse,
  StatusResponse,
} from '../../protocol/wire.ts';
import { retryLaterError, SyncServerError } from '../runtime/sync-error.ts';
import { inReadSnapshot } from '../runtime/transactions.ts';
import type { BundleChangeHub } from '../watch/bundle-change-hub.ts';
import { openWatchStream } from '../watch/sse-stream.ts';
import { MAX_USER_ID_LENGTH, identityProblem, sourceIdProblem } from '../auth/identity.ts';
import { ParamError, nonNegativeInt, positiveIntCapped } from './query-params.ts';
import { findUnstorableJson } from './storable-json.ts';
import { errorReply, jsonReply } from './responses.ts';
import { fetchSyncRequest, registerSyncServe, replyToResponse } from './sync-exchange.ts';
import type { SyncReply, SyncRequest } from './sync-exchange.ts';

/** Everything the handler needs from the server object. */
interface SyncHandlerDeps {
  ctx: RuntimeContext;
  basePath: string | null;
  snapshotBuilds: CapacityGate;
  snapshotChunkReads: CapacityGate;
  watch: { enabled: boolean; heartbeatMs: number; allow: (userId: string) => boolean; hub: BundleChangeHub | null };
  capabilities: (userId: string | null) => CapabilitiesResponse;
  status: () => Promise<StatusResponse>;
  /** Admits an operation (false once closing) and counts it in flight until `leave`. */
  enter: () => boolean;
  leave: () => void;
  registerStreamCloser: (close: () => void) => () => void;
  onInternalError: (err: unknown, context: string) => void;
}

type RouteName =
  | 'capabilities'
  | 'connect'
  | 'pushCreate'
  | 'pushChunk'
  | 'pushCommit'
  | 'pushSession'
  | 'committedRows'
  | 'pull'
  | 'snapshotCreate'
  | 'snapshotSession'
  | 'watch'
  | 'health'
  | 'status';

const ROUTES: Array<{ re: RegExp; name: RouteName; methods: string[]; failure: WireErrorCode }> = [
  { re: /^(.*)\/sync\/capabilities$/, name: 'capabilities', methods: ['GET'], failure: 'status_failed' },
  { re: /^(.*)\/sync\/connect$/, name: 'connect', methods: ['POST'], failure: 'connect_failed' },
  { re: /^(.*)\/sync\/push-sessions$/, name: 'pushCreate', methods: ['POST'], failure: 'push_session_create_failed' },
  { re: /^(.*)\/sync\/push-sessions\/([^/]+)\/chunks$/, name: 'pushChunk', methods: ['POST'], failure: 'push_chunk_failed' },
  { re: /^(.*)\/sync\/push-sessions\/([^/]+)\/commit$/, name: 'pushCommit', methods: ['POST'], failure: 'push_session_commit_failed' },
  { re: /^(.*)\/sync\/push-sessions\/([^/]+)$/, name: 'pushSession', methods: ['DELETE'], failure: 'push_session_delete_failed' },
  {
    re: /^(.*)\/sync\/committed-bundles\/([^/]+)\/rows$/,
    name: 'committedRows',
    methods: ['GET'],
    failure: 'committed_bundle_rows_failed',
  },
  { re: /^(.*)\/sync\/pull$/, name: 'pull', methods: ['GET'], failure: 'pull_failed' },
  { re: /^(.*)\/sync\/snapshot-sessions$/, name: 'snapshotCreate', methods: ['POST'], failure: 'snapshot_session_create_failed' },
  { re: /^(.*)\/sync\/snapshot-sessions\/([^/]*)$/, name: 'snapshotSession', methods: ['GET', 'DELETE'], failure: 'snapshot_chunk_failed' },
  { re: /^(.*)\/sync\/watch$/, name: 'watch', methods: ['GET'], failure: 'bundle_change_watch_failed' },
  { re: /^(.*)\/syncx\/health$/, name: 'health', methods: ['GET'], failure: 'health_failed' },
  { re: /^(.*)\/syncx\/status$/, name: 'status', methods: ['GET'], failure: 'status_failed' },
];

const NO_CONTENT: SyncReply = { status: 204, headers: {} };

/** The route whose failure answer an unexpected error of a request gets. */
interface AnsweredAs {
  name: RouteName;
  failure: WireErrorCode;
}

/** Reads the body as text, refusing (with `code`) more than `maxBytes` before buffering it all. */
async function readBodyText(request: SyncRequest, maxBytes: number, code: WireErrorCode): Promise<string> {
  const text = await request.readBody(maxBytes);
  if (text === null) throw new SyncServerError(code, `request body exceeds ${maxBytes} bytes`);
  return text;
}

async function readJson(
  request: SyncRequest,
  required: boolean,
  maxBytes: number,
  code: WireErrorCode = 'invalid_request',
): Promise<unknown> {
  return parseJsonText(await readBodyText(request, maxBytes, code), required, code);
}

function parseJsonText(text: string, required: boolean, code: WireErrorCode): unknown {
  if (text.trim() === '') {
    if (required) throw new SyncServerError('invalid_request', 'request body is required');
    return undefined;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SyncServerError('invalid_request', 'request body is not valid JSON');
  }
  const bad = findUnstorableJson(body);
  if (bad) throw new SyncServerError(code, `request body ${bad.path} ${bad.problem}`);
  return body;
}

/** A path segment (push or snapshot id) decoded; malformed percent-encoding is the client's mistake. */
function pathId(raw: string, code: WireErrorCode): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new SyncServerError(code, 'the id in the path is not valid percent-encoding');
  }
}

function param(code: WireErrorCode, fn: () => number | null): number | null {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ParamError) throw new SyncServerError(code, err.message);
    throw err;
  }
}

/** Refuses a snapshot-create body whose text or `new_source_id` cannot be stored (before parsing it for the protocol). */
function checkSnapshotCreateText(text: string): void {
  if (text.trim() === '') return;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return; // parseSnapshotCreate answers invalid JSON
  }
  const bad = findUnstorableJson(body);
  if (bad) throw new SyncServerError('snapshot_session_invalid', `request body ${bad.path} ${bad.problem}`);
  const next = (body as { source_replacement?: { new_source_id?: unknown } } | null)?.source_replacement?.new_source_id;
  if (typeof next === 'string') {
    const problem = sourceIdProblem(next);
    if (problem) throw new SyncServerError('snapshot_session_invalid', `source_replacement.new_source_id ${problem}`);
  }
}

/** Creates the fetch-style handler (its core registered for the Node adapters, sync-exchange.ts). */
export function createSyncHandler(d: SyncHandlerDeps): (request: Request, auth: { userId: string | null }) => Promise<Response> {
  const { ctx } = d;
  const L = ctx.limits;

  /**
   * A bundle this process just committed goes to this process's watch streams at once, before
   * the answer to its pusher: the commit's NOTIFY takes a round trip through PostgreSQL's LISTEN
   * connection and is handled after the answer is written (1–3 ms on the live path). Every other
   * process still hears of it by the NOTIFY, and each stream skips the NOTIFY's copy (it never
   * sends a bundle_seq at or below one it sent).
   */
  function announced<T extends CommittedBundleMeta | PushSessionAlreadyCommittedResponse>(userId: string, meta: T): T {
    if (d.watch.hub && !('status' in meta)) {
      d.watch.hub.publish(userId, { bundle_seq: meta.bundle_seq, source_id: meta.source_id, source_bundle_id: meta.source_bundle_id });
    }
    return meta;
  }

  /**
   * `answeredAs`: the route whose failure answer (code, message) an unexpected error gets; a
   * one-request push fails as the commit endpoint does.
   */
  async function route(
    name: RouteName,
    match: RegExpMatchArray,
    request: SyncRequest,
    q: URLSearchParams,
    userId: string,
    sourceId: string,
    answeredAs: AnsweredAs,
  ): Promise<SyncReply> {
    switch (name) {
      case 'connect': {
        const body = await readJson(request, true, L.maxRequestBodyBytes, 'connect_invalid');
        const pending = (body as { has_local_pending_rows?: unknown } | null)?.has_local_pending_rows;
        if (typeof body !== 'object' || body === null || typeof pending !== 'boolean') {
          throw new SyncServerError('connect_invalid', 'has_local_pending_rows must be a boolean');
        }
        return jsonReply(200, await connectScope(ctx.db, userId, sourceId, pending, L.initializationLeaseTtlSeconds));
      }
      case 'pushCreate': {
        // The text too: a one-request push carries rows, whose JSON numbers are read from it.
        const text = await readBodyText(request, L.maxRequestBodyBytes, 'push_session_invalid');
        const body = parseJsonText(text, true, 'push_session_invalid');
        const oneRequest = parseOneRequestPush(ctx, body, text);
        if (oneRequest) {
          answeredAs.name = 'pushCommit';
          answeredAs.failure = 'push_session_commit_failed';
          return jsonReply(200, announced(userId, await pushInOneRequest(ctx, userId, sourceId, oneRequest)));
        }
        return jsonReply(200, await createPushSession(ctx, userId, sourceId, parsePushCreate(body)));
      }
      case 'pushChunk': {
        // The text too: JSON numbers' own digits are read from it (exact int64, numbers dialect).
        const text = await readBodyText(request, L.maxRequestBodyBytes, 'push_chunk_invalid');
        const input = parsePushChunk(ctx, parseJsonText(text, true, 'push_chunk_invalid'), text);
        return jsonReply(200, await uploadPushChunk(ctx, userId, sourceId, pathId(match[2]!, 'push_chunk_invalid'), input));
      }
      case 'pushCommit':
        return jsonReply(
          200,
          announced(userId, await commitPushSession(ctx, userId, sourceId, pathId(match[2]!, 'push_session_not_found'))),
        );
      case 'pushSession':
        await deletePushSession(ctx, userId, sourceId, pathId(match[2]!, 'push_session_not_found'));
        return NO_CONTENT;
      case 'committedRows': {
        const code = 'committed_bundle_chunk_invalid';
        const seq = param(code, () => nonNegativeInt(match[2], 'bundle_seq', null))!;
        if (seq <= 0) throw new SyncServerError(code, 'bundle_seq must be a positive integer');
        const after = param(code, () => nonNegativeInt(q.get('after_row_ordinal'), 'after_row_ordinal', null));
        const maxRows = param(code, () =>
          positiveIntCapped(q.get('max_rows'), 'max_rows', L.defaultRowsPerCommittedBundleChunk, L.maxRowsPerCommittedBundleChunk),
        )!;
        return jsonReply(200, await readCommittedRows(ctx, userId, seq, after, maxRows));
      }
      case 'pull': {
        const code = 'invalid_request';
        const after = param(code, () => nonNegativeInt(q.get('after_bundle_seq'), 'after_bundle_seq', 0))!;
        const maxBundles = param(code, () => nonNegativeInt(q.get('max_bundles'), 'max_bundles', L.defaultBundlesPerPull))!;
        if (maxBundles < 1 || maxBundles > L.maxBundlesPerPull)
          throw new SyncServerError(code, `max_bundles must be between 1 and ${L.maxBundlesPerPull}`);
        const target = param(code, () => nonNegativeInt(q.get('target_bundle_seq'), 'target_bundle_seq', 0))!;
        return jsonReply(200, await pullBundles(ctx, userId, sourceId, after, maxBundles, target));
      }
      case 'snapshotCreate': {
        const text = await readBodyText(request, L.maxRequestBodyBytes, 'snapshot_session_invalid');
        checkSnapshotCreateText(text);
        const replacement = parseSnapshotCreate(text, sourceId);
        return jsonReply(200, await createSnapshotSession(ctx, d.snapshotBuilds, userId, replacement));
      }
      case 'snapshotSession': {
        const id = pathId(match[2]!, 'snapshot_chunk_invalid');
        if (request.method === 'DELETE') {
          if (id === '') throw new SyncServerError('snapshot_chunk_invalid', 'snapshot_id is required');
          await deleteSnapshotSession(ctx, userId, id);
          return NO_CONTENT;
        }
        const code = 'snapshot_chunk_invalid';
        if (id === '') throw new SyncServerError(code, 'snapshot_id is required');
        const after = param(code, () => nonNegativeInt(q.get('after_row_ordinal'), 'after_row_ordinal', 0))!;
        const maxRows = param(code, () =>
          positiveIntCapped(q.get('max_rows'), 'max_rows', L.defaultRowsPerSnapshotChunk, L.maxRowsPerSnapshotChunk),
        )!;
        const maxBytes = param(code, () =>
          positiveIntCapped(q.get('max_bytes'), 'max_bytes', L.defaultBytesPerSnapshotChunk, L.maxBytesPerSnapshotChunk),
        )!;
        return jsonReply(200, await readSnapshotChunk(ctx, d.snapshotChunkReads, userId, sourceId, id, after, maxRows, maxBytes));
      }
      case 'watch': {
        const after = param('invalid_request', () => nonNegativeInt(q.get('after_bundle_seq'), 'after_bundle_seq', 0))!;
        if (!d.watch.enabled || !d.watch.hub) throw new SyncServerError('bundle_change_watch_disabled', 'bundle change watch is disabled');
        if (!d.watch.allow(userId))
          throw new SyncServerError('bundle_change_watch_forbidden', 'bundle change watch is forbidden for this actor');
        const open = d.watch.hub.subscriberCountOf(userId);
        if (L.maxWatchStreamsPerUser > 0 && open >= L.maxWatchStreamsPerUser) {
          throw retryLaterError(
            'bundle_change_watch_capacity',
            `this user already has ${open} watch streams open on this server process (limit ${L.maxWatchStreamsPerUser}); close one or retry later`,
            L.capacityRetryAfterSeconds,
          );
        }
        const stream = await openWatchStream({
          hub: d.watch.hub,
          userId,
          afterBundleSeq: after,
          heartbeatMs: d.watch.heartbeatMs,
          readLatest: () =>
            inReadSnapshot(ctx.db, async (tx) => {
              const scope = await readUserScope(tx, userId);
              requireInitialized(scope);
              return scope.latestBundleSeq;
            }),
          registerCloser: d.registerStreamCloser,
        });
        return {
          status: 200,
          headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
          stream,
        };
      }
      default:
        throw new Error(`unrouted ${name}`);
    }
  }

  async function serve(request: SyncRequest, auth: { userId: string | null }): Promise<SyncReply> {
    const pathname = request.path;
    const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
    let found: { route: (typeof ROUTES)[number]; match: RegExpMatchArray } | null = null;
    for (const r of ROUTES) {
      const m = path.match(r.re);
      if (m && (d.basePath === null || m[1] === d.basePath)) {
        found = { route: r, match: m };
        break;
      }
    }
    if (!found) return errorReply('not_found', `no sync route for ${pathname}`);
    const { route: r, match } = found;
    if (!r.methods.includes(request.method)) {
      return errorReply('method_not_allowed', `${request.method} is not allowed on ${pathname}`, {}, { Allow: r.methods.join(', ') });
    }
    const failure: WireErrorCode =
      r.name === 'snapshotSession' && request.method === 'DELETE' ? 'snapshot_session_delete_failed' : r.failure;
    const answeredAs: AnsweredAs = { name: r.name, failure };
    if (r.name === 'health' || r.name === 'status') {
      try {
        const status = await d.status();
        return jsonReply(r.name === 'health' && status.status !== 'healthy' ? 503 : 200, status);
      } catch (err) {
        const fault = transientDatabaseFault(err);
        d.onInternalError(err, r.name);
        if (fault) return errorReply(fault.code, fault.message, fault.extra, fault.headers);
        return errorReply(failure, `${r.name} failed`);
      }
    }
    if (!d.enter()) return errorReply('service_unavailable', 'the sync server is shutting down');
    try {
      // Ids are exact (never trimmed); one that cannot be an id is refused before any database work.
      const userId = auth.userId ?? null;
      const userProblem = userId === null ? null : identityProblem(userId, MAX_USER_ID_LENGTH);
      if (userProblem) return errorReply('authentication_failed', `authentication failed: the user id ${userProblem}`);
      if (r.name === 'capabilities') return jsonReply(200, d.capabilities(userId));
      if (userId === null) return errorReply('authentication_failed', 'authentication failed: no authenticated user');
      const sourceId = request.header(SOURCE_ID_HEADER);
      if (sourceId === null || sourceId === '') return errorReply('invalid_request', `${SOURCE_ID_HEADER} header is required`);
      const sourceProblem = sourceIdProblem(sourceId);
      if (sourceProblem) return errorReply('invalid_request', `${SOURCE_ID_HEADER} ${sourceProblem}`);
      return await route(r.name, match, request, new URLSearchParams(request.query), userId, sourceId, answeredAs);
    } catch (err) {
      if (err instanceof SyncServerError) return errorReply(err.code, err.message, err.extra, err.headers);
      d.onInternalError(err, `${request.method} ${pathname}`);
      const fault = transientDatabaseFault(err);
      if (fault) return errorReply(fault.code, fault.message, fault.extra, fault.headers);
      // The cause goes to onInternalError only: its text (SQL, relation names, stack) is no
      // business of the client.
      return errorReply(answeredAs.failure, `${answeredAs.name} failed on the server`);
    } finally {
      d.leave();
    }
  }

  const handle = async (request: Request, auth: { userId: string | null }): Promise<Response> => {
    const view = fetchSyncRequest(request);
    if (!view) return replyToResponse(errorReply('invalid_request', 'request URL is not absolute'));
    return replyToResponse(await serve(view, auth));
  };
  registerSyncServe(handle, serve);
  return handle;
}
