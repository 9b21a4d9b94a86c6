/**
 * Pull to a stable ceiling. The first page freezes `stable_bundle_seq`; follow-up pages pass it as
 * `target_bundle_seq`. Each page is validated whole before anything is applied; each bundle is
 * then applied in its own transaction (FKs deferred, capture off) together with the checkpoint.
 *
 * Pulls coexist with unsynced local edits (the KMP client refuses to pull then): an incoming row
 * whose key has a pending local intent (dirty or frozen) is skipped, and that intent keeps its
 * base version, so the next push meets an ordinary conflict and the configured resolver decides.
 */
import type { PullResponse, SqliteValue } from '../../protocol/index.ts';
import { pull as pullPage } from './protocol-client.ts';
import { anyLocalIntent, applyServerRow, hasLocalIntent, readRowState, settleOrphanedIntents } from './apply.ts';
import { applyTransaction } from './capture.ts';
import { checkWirePayloadShape, wireKeyToKeyJson, wirePayloadToSqlite } from './codec.ts';
import type { EngineContext } from './context.ts';
import { tableOf } from './context.ts';
import { badResponse } from './errors.ts';
import { readAttachment } from './metadata.ts';
import type { TableModel } from './table-config.ts';

const DEFAULT_MAX_BUNDLES = 1000;

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

interface DecodedRow {
  t: TableModel;
  keyJson: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  version: number;
  payload: Record<string, never> | null;
  /** The payload decoded for SQLite during validation (null for a DELETE). */
  values: SqliteValue[] | null;
}

/** Validates a pull page against the request (fixture `pull-snapshot/basic.json` rules). */
export function validatePullPage(ctx: EngineContext, page: PullResponse, after: number, target: number): { seq: number; rows: DecodedRow[] }[] {
  if (!page || typeof page !== 'object' || !Array.isArray(page.bundles)) throw badResponse('pull: bundles missing');
  if (!isNonNegInt(page.stable_bundle_seq)) throw badResponse('pull: stable_bundle_seq must be a non-negative integer');
  if (typeof page.has_more !== 'boolean') throw badResponse('pull: has_more must be a boolean');
  if (page.bundles.length > 0 && page.stable_bundle_seq === 0) throw badResponse('pull: missing stable_bundle_seq for non-empty bundle list');
  if (page.stable_bundle_seq < after) throw badResponse(`pull: stable_bundle_seq ${page.stable_bundle_seq} is behind requested after_bundle_seq ${after}`);
  if (target > 0 && page.stable_bundle_seq !== target) throw badResponse(`pull: stable_bundle_seq changed from ${target} to ${page.stable_bundle_seq} within one pull`);
  let prev = after;
  return page.bundles.map((b, bi) => {
    const where = `pull bundle ${bi}`;
    if (!b || typeof b !== 'object' || !Array.isArray(b.rows)) throw badResponse(`${where}: rows missing`);
    if (!isNonNegInt(b.bundle_seq) || b.bundle_seq <= prev || b.bundle_seq > page.stable_bundle_seq) {
      throw badResponse(`${where}: bundle_seq ${b.bundle_seq} must increase above ${prev} and not exceed ${page.stable_bundle_seq}`);
    }
    prev = b.bundle_seq;
    const rows = b.rows.map((r, ri) => {
      const w = `${where} row ${ri}`;
      if (!r || typeof r !== 'object') throw badResponse(`${w}: not an object`);
      if (!isNonNegInt(r.row_version) || r.row_version === 0) throw badResponse(`${w}: bundle row row_version ${r.row_version} must be positive`);
      if (r.op !== 'INSERT' && r.op !== 'UPDATE' && r.op !== 'DELETE') throw badResponse(`${w}: unknown op ${JSON.stringify(r.op)}`);
      const t = tableOf(ctx, r.schema, r.table, w);
      const keyJson = wireKeyToKeyJson(t, r.key, w);
      let values: SqliteValue[] | null = null;
      if (r.op !== 'DELETE') {
        checkWirePayloadShape(t, r.payload, w);
        try {
          values = wirePayloadToSqlite(t, r.payload);
        } catch (e) {
          throw badResponse(`${w}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      return { t, keyJson, op: r.op, version: r.row_version, payload: (r.op === 'DELETE' ? null : r.payload) as DecodedRow['payload'], values };
    });
    return { seq: b.bundle_seq, rows };
  });
}

/**
 * Applies one validated bundle and advances the checkpoint, atomically. Returns touched tables.
 * With no pending local intent at all (the common case, checked once per bundle) the per-row
 * intent lookups and the orphaned-intent pass are skipped: neither can change anything then.
 */
export function applyPulledBundle(ctx: EngineContext, seq: number, rows: DecodedRow[]): Set<string> {
  const touched = new Set<string>();
  applyTransaction(ctx.db, () => {
    const intents = anyLocalIntent(ctx);
    for (const r of rows) {
      if (intents && hasLocalIntent(ctx, r.t, r.keyJson)) continue;
      const state = readRowState(ctx, r.t, r.keyJson);
      if (state && state.version >= r.version) continue; // already applied (our own replay, or a re-pull)
      applyServerRow(ctx, r.t, r.keyJson, r.op, r.version, r.payload, r.values ?? undefined);
      touched.add(r.t.table);
    }
    if (intents) settleOrphanedIntents(ctx, rows.some((r) => r.op === 'DELETE'));
    ctx.db.exec({ sql: 'UPDATE _sync_attachment_state SET last_bundle_seq_seen = ? WHERE singleton_key = 1', bind: [seq] });
  });
  return touched;
}

/** Pulls bundles until the checkpoint reaches the frozen stable ceiling. */
export async function pullToStable(ctx: EngineContext): Promise<{ bundles: number; rows: number; checkpoint: number }> {
  const limits = ctx.capabilities?.bundle_limits ?? {};
  const wanted = ctx.options.pullMaxBundles ?? DEFAULT_MAX_BUNDLES;
  const maxBundles = Math.max(1, Math.min(wanted, limits.max_bundles_per_pull ?? 5000));
  let target = 0;
  let bundles = 0;
  let rows = 0;
  for (;;) {
    const after = readAttachment(ctx.db).lastBundleSeqSeen;
    const page = await pullPage(ctx.transport, after, maxBundles, target);
    const decoded = validatePullPage(ctx, page, after, target);
    if (target === 0) target = page.stable_bundle_seq;
    for (const b of decoded) {
      const touched = applyPulledBundle(ctx, b.seq, b.rows);
      bundles++;
      rows += b.rows.length;
      ctx.applied(touched);
      ctx.setPhase('pulling', { done: b.seq, total: target });
    }
    const checkpoint = readAttachment(ctx.db).lastBundleSeqSeen;
    if (checkpoint >= target) return { bundles, rows, checkpoint };
    if (!page.has_more) throw badResponse(`pull: has_more=false while checkpoint ${checkpoint} is short of stable ${target}`);
    if (decoded.length === 0) throw badResponse('pull: has_more=true with no bundles');
  }
}
