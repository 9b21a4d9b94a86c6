/**
 * The durable push outbox. `freezeOutbox` moves every pending dirty row into `_sync_outbox_rows`
 * in one transaction, giving the push a fixed content and a fixed `source_bundle_id` that
 * survive crashes and retries (the server's idempotency key). Upserts go parents-first, deletes
 * children-first. `requeueOutbox` gives a frozen outbox back to the dirty set without losing edits
 * made after the freeze.
 */
import type { PushRow, WireKey, WireOp, WirePayload } from '../../protocol/index.ts';
import { pushRequestHash } from '../../protocol/index.ts';
import { applyTransaction } from './capture.ts';
import { keyJsonToWire, localPayloadToWire } from './codec.ts';
import type { EngineContext } from './context.ts';
import { readNextSourceBundleId } from './metadata.ts';
import { runCached } from './statements.ts';

/** The frozen outbox header. */
export interface OutboxHeader {
  state: 'none' | 'prepared' | 'committed_remote';
  sourceId: string;
  userId: string;
  sourceBundleId: number;
  canonicalRequestHash: string;
  rowCount: number;
  initializationId: string | null;
  remoteBundleHash: string;
  remoteBundleSeq: number;
}

/** One frozen row. */
export interface OutboxRow {
  ordinal: number;
  table: string;
  keyJson: string;
  op: WireOp;
  baseRowVersion: number;
  localPayload: string | null;
  wire: PushRow;
  dirtyOrdinal: number;
}

/** Reads the outbox header. */
export function readOutboxHeader(ctx: EngineContext): OutboxHeader {
  const r = ctx.db.exec({
    sql: `SELECT state, source_id, user_id, source_bundle_id, canonical_request_hash, row_count, initialization_id,
                 remote_bundle_hash, remote_bundle_seq FROM _sync_outbox_bundle WHERE singleton_key = 1`,
    rowMode: 'array',
    returnValue: 'resultRows',
  })[0] as unknown[];
  return {
    state: r[0] as OutboxHeader['state'],
    sourceId: String(r[1]),
    userId: String(r[2]),
    sourceBundleId: Number(r[3]),
    canonicalRequestHash: String(r[4]),
    rowCount: Number(r[5]),
    initializationId: (r[6] as string | null) ?? null,
    remoteBundleHash: String(r[7]),
    remoteBundleSeq: Number(r[8]),
  };
}

/** Reads the frozen rows in push order. */
export function readOutboxRows(ctx: EngineContext): OutboxRow[] {
  const rows = ctx.db.exec({
    sql: `SELECT row_ordinal, table_name, key_json, op, base_row_version, local_payload, wire_key_json, wire_payload, dirty_ordinal
          FROM _sync_outbox_rows ORDER BY row_ordinal`,
    rowMode: 'array',
    returnValue: 'resultRows',
  }) as unknown[][];
  return rows.map((r) => {
    const op = r[3] as WireOp;
    const wire: PushRow = {
      schema: ctx.schema,
      table: String(r[1]),
      key: JSON.parse(String(r[6])) as WireKey,
      op,
      base_row_version: Number(r[4]),
    };
    if (op !== 'DELETE') wire.payload = JSON.parse(String(r[7])) as WirePayload;
    return {
      ordinal: Number(r[0]),
      table: String(r[1]),
      keyJson: String(r[2]),
      op,
      baseRowVersion: Number(r[4]),
      localPayload: (r[5] as string | null) ?? null,
      wire,
      dirtyOrdinal: Number(r[8]),
    };
  });
}

/**
 * Freezes the dirty rows into the outbox (one transaction) unless an outbox already exists, which
 * is then resumed unchanged. Returns the header (state 'none' when there is nothing to push).
 */
export function freezeOutbox(ctx: EngineContext, userId: string, sourceId: string, initializationId: string | null): OutboxHeader {
  return applyTransaction(ctx.db, () => {
    const existing = readOutboxHeader(ctx);
    if (existing.state !== 'none') return existing;
    const dirty = ctx.db.exec({
      sql: `SELECT d.table_name, d.key_json, d.base_row_version, d.payload, d.dirty_ordinal, rs.row_version, rs.deleted
            FROM _sync_dirty_rows d
            LEFT JOIN _sync_row_state rs ON rs.schema_name = d.schema_name AND rs.table_name = d.table_name AND rs.key_json = d.key_json
            WHERE d.schema_name = ?`,
      bind: [ctx.schema],
      rowMode: 'array',
      returnValue: 'resultRows',
    }) as unknown[][];
    const order = new Map(ctx.model.tables.map((t, i) => [t.table, i]));
    const rows: Omit<OutboxRow, 'ordinal'>[] = [];
    const frozenTables = new Set<string>();
    for (const d of dirty) {
      const table = String(d[0]);
      const t = ctx.model.byName.get(table);
      const keyJson = String(d[1]);
      const payload = (d[3] as string | null) ?? null;
      const live = d[5] !== null && d[5] !== undefined && Number(d[6]) === 0;
      if (!t) continue; // a table no longer synced: its intent stays dirty, untouched
      frozenTables.add(table);
      // Inserted and deleted again before the server ever saw it: nothing to send (the dirty row
      // is dropped with the others below).
      if (payload === null && !live) continue;
      const op: WireOp = payload === null ? 'DELETE' : live ? 'UPDATE' : 'INSERT';
      const wire: PushRow = { schema: ctx.schema, table, key: keyJsonToWire(t, keyJson), op, base_row_version: Number(d[2]) };
      if (payload !== null) wire.payload = localPayloadToWire(t, payload);
      rows.push({ table, keyJson, op, baseRowVersion: Number(d[2]), localPayload: payload, wire, dirtyOrdinal: Number(d[4]) });
    }
    // Every dirty row of a synced table was either dropped or is frozen now: remove them set-based
    // (one DELETE per table instead of one per row; nothing else writes inside this transaction).
    for (const table of frozenTables) {
      runCached(ctx.db, 'DELETE FROM _sync_dirty_rows WHERE schema_name = ? AND table_name = ?', [ctx.schema, table]);
    }
    if (rows.length === 0) return readOutboxHeader(ctx);
    rows.sort((a, b) => {
      const ad = a.op === 'DELETE' ? 1 : 0;
      const bd = b.op === 'DELETE' ? 1 : 0;
      if (ad !== bd) return ad - bd;
      const ta = order.get(a.table)!;
      const tb = order.get(b.table)!;
      if (ta !== tb) return ad ? tb - ta : ta - tb;
      return a.dirtyOrdinal - b.dirtyOrdinal;
    });
    const sourceBundleId = readNextSourceBundleId(ctx.db, sourceId, userId);
    const insert = `INSERT INTO _sync_outbox_rows(row_ordinal, schema_name, table_name, key_json, wire_key_json, op, base_row_version,
           local_payload, wire_payload, dirty_ordinal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    rows.forEach((r, i) => {
      runCached(ctx.db, insert, [
        i,
        ctx.schema,
        r.table,
        r.keyJson,
        JSON.stringify(r.wire.key),
        r.op,
        r.baseRowVersion,
        r.localPayload,
        r.wire.payload === undefined ? null : JSON.stringify(r.wire.payload),
        r.dirtyOrdinal,
      ]);
    });
    ctx.db.exec({
      sql: `UPDATE _sync_outbox_bundle SET state = 'prepared', source_id = ?, user_id = ?, source_bundle_id = ?,
              canonical_request_hash = '', row_count = ?, initialization_id = ?, remote_bundle_hash = '', remote_bundle_seq = 0
            WHERE singleton_key = 1`,
      bind: [sourceId, userId, sourceBundleId, rows.length, initializationId],
    });
    return readOutboxHeader(ctx);
  });
}

/** Computes and stores the canonical request hash of a prepared outbox (idempotent). */
export async function ensureRequestHash(ctx: EngineContext, header: OutboxHeader, rows: OutboxRow[]): Promise<string> {
  if (header.canonicalRequestHash) return header.canonicalRequestHash;
  const hash = await pushRequestHash(rows.map((r) => r.wire));
  ctx.db.exec({ sql: "UPDATE _sync_outbox_bundle SET canonical_request_hash = ? WHERE singleton_key = 1 AND state = 'prepared'", bind: [hash] });
  return hash;
}

/**
 * Inside an apply transaction: returns every frozen row to the dirty set (keeping any newer edit
 * of the same key, rebased on the frozen base) except the keys in `skip`, and clears the outbox.
 */
export function requeueOutboxInTransaction(ctx: EngineContext, skip: Set<string> = new Set()): void {
  for (const r of readOutboxRows(ctx)) {
    if (skip.has(`${r.table}\u0000${r.keyJson}`)) continue;
    runCached(
      ctx.db,
      `INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET base_row_version = excluded.base_row_version`,
      [ctx.schema, r.table, r.keyJson, r.op, r.baseRowVersion, r.localPayload, r.dirtyOrdinal],
    );
  }
  clearOutboxInTransaction(ctx);
}

/** Inside a transaction: empties the outbox. */
export function clearOutboxInTransaction(ctx: EngineContext): void {
  ctx.db.exec('DELETE FROM _sync_outbox_rows');
  ctx.db.exec(
    `UPDATE _sync_outbox_bundle SET state = 'none', source_id = '', user_id = '', source_bundle_id = 0, canonical_request_hash = '',
       row_count = 0, initialization_id = NULL, remote_bundle_hash = '', remote_bundle_seq = 0 WHERE singleton_key = 1`,
  );
}
