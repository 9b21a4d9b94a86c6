/**
 * Lifecycle: capabilities gate (v1, `connect_lifecycle`, matching `registered_table_specs`),
 * connect with every outcome, and detach. Attach for the already-attached user resumes offline.
 */
import { PROTOCOL_VERSION } from '../../protocol/index.ts';
import type { CapabilitiesResponse, TableSpec } from '../../protocol/index.ts';
import { connect as connectRequest, getCapabilities } from './protocol-client.ts';
import { applyTransaction } from './capture.ts';
import type { EngineContext } from './context.ts';
import { badResponse, isIntFrom, SyncError } from './errors.ts';
import {
  bindUser,
  cancelRemoteReplace,
  clearOutbox,
  countPending,
  finishOperation,
  readAttachment,
  startRemoteReplace,
  unbindUser,
} from './metadata.ts';
import { rebuildFromSnapshot } from './snapshot.ts';
import { quoteIdent } from './table-config.ts';
import type { AttachResult, DetachResult } from './types.ts';

/** Result of comparing local table specs with the advertised ones (`protocol-handshake/connect.json`). */
type TableContractCheck =
  | { kind: 'match' }
  | {
      kind: 'mismatch';
      serverOnlyTables: string[];
      clientOnlyTables: string[];
      syncKeyMismatches: { qualifiedTable: string; clientSyncKeyColumns: string[]; serverSyncKeyColumns: string[] }[];
    }
  | { kind: 'invalid'; reason: string };

/** Compares local specs with the server's `registered_table_specs` (order-insensitive, exact names). */
export function checkTableContract(local: TableSpec[], advertised: unknown): TableContractCheck {
  if (!Array.isArray(advertised)) return { kind: 'invalid', reason: 'registered_table_specs missing' };
  const server = new Map<string, string[]>();
  for (const s of advertised as unknown[]) {
    const spec = s as Partial<TableSpec> | null;
    if (
      !spec ||
      typeof spec.schema !== 'string' ||
      spec.schema === '' ||
      typeof spec.table !== 'string' ||
      spec.table === '' ||
      !Array.isArray(spec.sync_key_columns) ||
      spec.sync_key_columns.length === 0 ||
      !spec.sync_key_columns.every((c) => typeof c === 'string' && c !== '')
    ) {
      return { kind: 'invalid', reason: 'malformed registered_table_specs entry' };
    }
    const q = `${spec.schema}.${spec.table}`;
    if (server.has(q)) return { kind: 'invalid', reason: `duplicate registered_table_specs entry ${q}` };
    server.set(q, spec.sync_key_columns);
  }
  const client = new Map(local.map((s) => [`${s.schema}.${s.table}`, s.sync_key_columns]));
  const serverOnlyTables = [...server.keys()].filter((q) => !client.has(q)).sort();
  const clientOnlyTables = [...client.keys()].filter((q) => !server.has(q)).sort();
  const syncKeyMismatches = [...client.entries()]
    .filter(([q, cols]) => server.has(q) && server.get(q)!.join('\u0000') !== cols.join('\u0000'))
    .map(([q, cols]) => ({ qualifiedTable: q, clientSyncKeyColumns: cols, serverSyncKeyColumns: server.get(q)! }))
    .sort((a, b) => (a.qualifiedTable < b.qualifiedTable ? -1 : 1));
  if (serverOnlyTables.length || clientOnlyTables.length || syncKeyMismatches.length) {
    return { kind: 'mismatch', serverOnlyTables, clientOnlyTables, syncKeyMismatches };
  }
  return { kind: 'match' };
}

/** Local specs of the engine's synced tables. */
function localTableSpecs(ctx: EngineContext): TableSpec[] {
  return ctx.model.tables.map((t) => ({ schema: ctx.schema, table: t.table, sync_key_columns: [t.key.wireName] }));
}

/** Fetches capabilities and enforces the gate; caches them on the context. */
export async function fetchCapabilities(ctx: EngineContext): Promise<CapabilitiesResponse> {
  let caps: CapabilitiesResponse;
  try {
    caps = await getCapabilities(ctx.transport);
  } catch (e) {
    if (e instanceof SyncError && (e.status === 404 || e.status === 405 || e.status === 501)) {
      throw new SyncError('lifecycle_unsupported', 'the server has no capabilities endpoint (connect lifecycle unsupported)', e.status);
    }
    throw e;
  }
  if (!caps || typeof caps !== 'object') throw badResponse('capabilities: empty body');
  if (caps.protocol_version !== PROTOCOL_VERSION) {
    throw new SyncError(
      'protocol_version_mismatch',
      `server speaks protocol ${JSON.stringify(caps.protocol_version)}, this client ${PROTOCOL_VERSION}`,
    );
  }
  if (!caps.features || caps.features.connect_lifecycle !== true) {
    throw new SyncError('lifecycle_unsupported', 'the server does not advertise features.connect_lifecycle');
  }
  const check = checkTableContract(localTableSpecs(ctx), caps.registered_table_specs);
  if (check.kind === 'invalid') throw badResponse(`capabilities: ${check.reason}`);
  if (check.kind === 'mismatch') {
    throw new SyncError(
      'table_contract_mismatch',
      `synced tables differ from the server's: server-only [${check.serverOnlyTables.join(', ')}], client-only [${check.clientOnlyTables.join(', ')}], key mismatches [${check.syncKeyMismatches.map((m) => m.qualifiedTable).join(', ')}]`,
      undefined,
      check,
    );
  }
  caps.bundle_limits ??= {};
  ctx.capabilities = caps;
  return caps;
}

/** Attach: resume, or capabilities + connect and act on the resolution. */
export async function attach(ctx: EngineContext, userId: string): Promise<AttachResult> {
  if (typeof userId !== 'string' || userId.trim() === '') throw new SyncError('config_invalid', 'attach(userId) needs a non-empty user id');
  const att = readAttachment(ctx.db);
  if (att.bindingState === 'attached') {
    if (att.attachedUserId === userId) return { status: 'connected', outcome: 'resumed', userId };
    throw new SyncError('attach_binding_conflict', `this database is attached to another user (${att.attachedUserId}); detach first`);
  }
  await fetchCapabilities(ctx);
  return connectAs(ctx, userId, ctx.options.anonymousData ?? 'keep');
}

/**
 * Connects as `userId` and acts on the resolution: what attach does, and what a device already
 * attached does again when its seed lease lapsed or has nothing left to seed (recovery.ts).
 * `retry_later` changes nothing here. Pending rows met by `remote_authoritative` are kept or
 * discarded as `localIntents` says.
 */
export async function connectAs(ctx: EngineContext, userId: string, localIntents: 'keep' | 'discard'): Promise<AttachResult> {
  const res = await connectRequest(ctx.transport, countPending(ctx.db) > 0);
  if (!res || typeof res !== 'object') throw badResponse('connect: empty body');
  switch (res.resolution) {
    case 'retry_later': {
      const s = res.retry_after_seconds;
      if (!isIntFrom(s, 1)) throw badResponse('connect: retry_later needs retry_after_seconds >= 1');
      return { status: 'retry_later', retryAfterSeconds: s };
    }
    case 'initialize_empty':
      bindUser(ctx.db, userId, null);
      return { status: 'connected', outcome: 'started_empty', userId };
    case 'initialize_local': {
      if (typeof res.initialization_id !== 'string' || res.initialization_id === '')
        throw badResponse('connect: initialize_local without initialization_id');
      bindUser(ctx.db, userId, res.initialization_id);
      return { status: 'connected', outcome: 'seeded_from_local', userId };
    }
    case 'remote_authoritative': {
      startRemoteReplace(ctx.db, userId);
      const out = await rebuildFromSnapshot(ctx, { localIntents, attachUserId: userId });
      return {
        status: 'connected',
        outcome: 'used_remote_state',
        userId,
        snapshotRows: out.rowCount,
        ...(localIntents === 'keep' ? { keptLocalChanges: out.keptIntents } : { discardedLocalChanges: out.discardedIntents }),
      };
    }
    default:
      throw badResponse(`connect: unknown resolution ${JSON.stringify((res as { resolution?: unknown }).resolution)}`);
  }
}

/** Detach: refuse while unsynced (unless forced); wipe the user's synced data; keep the source id. */
export function detach(ctx: EngineContext, force: boolean): DetachResult {
  const att = readAttachment(ctx.db);
  if (att.bindingState === 'anonymous') {
    // Nobody is signed in: there is no user data to remove, and anonymous rows are the user's
    // offline work (KMP wipes them here). Only cancel an interrupted remote_replace.
    applyTransaction(ctx.db, () => {
      ctx.db.exec('DELETE FROM _sync_snapshot_stage');
      cancelRemoteReplace(ctx.db);
    });
    return { outcome: 'detached', discardedChanges: 0 };
  }
  const pending = countPending(ctx.db) + (att.pendingInitializationId ? 1 : 0);
  if (pending > 0 && !force) return { outcome: 'blocked_unsynced_data', pendingCount: pending };
  const discarded = countPending(ctx.db);
  const touched: string[] = [];
  applyTransaction(ctx.db, () => {
    for (const t of [...ctx.model.tables].reverse()) {
      ctx.db.exec(`DELETE FROM ${quoteIdent(t.table)}`);
      touched.push(t.table);
    }
    ctx.db.exec('DELETE FROM _sync_row_state');
    ctx.db.exec('DELETE FROM _sync_dirty_rows');
    ctx.db.exec('DELETE FROM _sync_dropped_rows');
    ctx.db.exec('DELETE FROM _sync_skipped_rows');
    ctx.db.exec('DELETE FROM _sync_snapshot_stage');
    ctx.db.exec('DELETE FROM _sync_failure_streak');
    clearOutbox(ctx.db);
    unbindUser(ctx.db);
    finishOperation(ctx.db);
  });
  ctx.capabilities = null;
  ctx.applied(touched);
  return { outcome: 'detached', discardedChanges: discarded };
}
