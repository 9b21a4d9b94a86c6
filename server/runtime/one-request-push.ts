/**
 * One-request push, an extension of this server (advertised in capabilities as
 * `oversqlite_extensions.one_request_push`, see docs/protocol-differences.md): a
 * `POST /sync/push-sessions` body that also carries the bundle's `rows` and `commit: true` is
 * created, staged, applied and finalized in ONE transaction, with every check of the create,
 * chunk and commit steps (see pushWholeBundleIn), and answered as the commit endpoint answers
 * (or `already_committed`, as a create answers, when a re-sent request finds the bundle
 * committed). A small push then costs one HTTP round trip instead of three.
 */
import { isJsonObject } from '../../protocol/canonical-json.ts';
import type { CommittedBundleMeta, OneRequestPushLimits, PushSessionAlreadyCommittedResponse } from '../../protocol/wire.ts';
import type { RuntimeContext } from './context.ts';
import { isPushDataRefusal } from './push-rejections.ts';
import {
  APPLY_SAVEPOINT,
  commitPushSession,
  createPushSession,
  deletePushSession,
  parsePushChunk,
  parsePushCreate,
  pushWholeBundleIn,
  uploadPushChunk,
} from './push-sessions.ts';
import type { PushChunkInput, PushCreateInput } from './push-sessions.ts';
import { SyncServerError } from './sync-error.ts';
import { inUserTransaction } from './transactions.ts';
import { NUMBERS_DIALECT } from './wire-dialect.ts';

/** A parsed one-request push: the create's fields and the rows as a chunk at ordinal 0. */
export interface OneRequestPushInput {
  create: PushCreateInput;
  chunk: PushChunkInput;
}

/**
 * What the server advertises, or null when it does not offer the extension: a server forced to
 * the go-json-numbers dialect speaks only what go-oversync peers speak.
 */
export function oneRequestPushLimits(ctx: RuntimeContext): OneRequestPushLimits | null {
  if (!ctx.oneRequestPush || ctx.wireDialect === NUMBERS_DIALECT) return null;
  return { max_rows: ctx.limits.maxRowsPerPushChunk, max_request_bytes: ctx.limits.maxRequestBodyBytes };
}

/**
 * The one-request form of a create body, validated entirely before any database work; null when
 * `body` is a plain create (neither `rows` nor `commit`). Create fields are refused as a create
 * refuses them (`push_session_invalid`), rows as a chunk refuses them (`push_chunk_invalid`, which
 * includes more rows than `max_rows_per_push_chunk`).
 */
export function parseOneRequestPush(ctx: RuntimeContext, body: unknown, bodyText: string): OneRequestPushInput | null {
  if (!isJsonObject(body) || (body.rows === undefined && body.commit === undefined)) return null;
  if (!oneRequestPushLimits(ctx)) {
    throw new SyncServerError(
      'push_session_invalid',
      'this server does not offer the one-request push (rows and commit in the create); create, upload chunks and commit instead',
    );
  }
  if (body.commit !== true)
    throw new SyncServerError('push_session_invalid', 'rows in a push-session create require commit: true (one-request push)');
  if (body.rows === undefined)
    throw new SyncServerError('push_session_invalid', "commit: true in a push-session create requires the bundle's rows");
  const create = parsePushCreate(body);
  if (create.canonicalRequestHash === null) {
    throw new SyncServerError('push_session_invalid', 'a one-request push requires canonical_request_hash');
  }
  const chunk = parsePushChunk(ctx, { start_row_ordinal: 0, rows: body.rows }, bodyText);
  if (chunk.rows.length !== create.plannedRowCount) {
    throw new SyncServerError(
      'push_session_invalid',
      `a one-request push carries all its rows: planned_row_count ${create.plannedRowCount}, rows ${chunk.rows.length}`,
    );
  }
  return { create, chunk };
}

/** `POST /sync/push-sessions` with rows and `commit: true`. */
export async function pushInOneRequest(
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  input: OneRequestPushInput,
): Promise<CommittedBundleMeta | PushSessionAlreadyCommittedResponse> {
  try {
    const meta = await inUserTransaction(ctx.db, userId, (tx) => pushWholeBundleIn(tx, ctx, userId, sourceId, input.create, input.chunk), {
      deferConstraints: true,
      savepoint: APPLY_SAVEPOINT,
    });
    ctx.announceCommitted(userId, meta);
    return meta;
  } catch (err) {
    if (err instanceof SyncServerError || !isPushDataRefusal(err)) throw err;
  }
  // The database refused the pushed data. The commit endpoint names the refused row by replaying
  // a staged session; to answer exactly as it does, the three steps run as separate transactions
  // (the failure path only), and the session is dropped after the answer.
  const created = await createPushSession(ctx, userId, sourceId, input.create);
  if (created.status === 'already_committed') return created;
  await uploadPushChunk(ctx, userId, sourceId, created.push_id, input.chunk);
  try {
    return await commitPushSession(ctx, userId, sourceId, created.push_id);
  } catch (err) {
    await deletePushSession(ctx, userId, sourceId, created.push_id).catch(() => {});
    throw err;
  }
}
