/**
 * The durable push outbox. `freezeOutbox` moves every pending dirty row into `_sync_outbox_rows`
 * in one transaction (set-based, in SQL), giving the push a fixed content and a fixed
 * `source_bundle_id` that survive crashes and retries (the server's idempotency key). Upserts go
 * parents-first, deletes children-first. Only local payloads are stored: each is encoded once per
 * push into its canonical wire text when the rows are read (deterministic, so a resumed push sends
 * the same bytes). `requeueOutbox` gives a frozen outbox back to the dirty set without losing
 * edits made after the freeze.
 */
import type { PushRow, WireKey, WireOp, WirePayload } from '../../protocol/index.ts';
import { applyTransaction, ordinalOffsetBeforePending, sqlString } from './capture.ts';
import { wirePayloadToLocalJson } from './codec.ts';
import type { EngineContext } from './context.ts';
import { SyncError } from './errors.ts';
import { clearOutbox, prepareOutbox, readNextSourceBundleId, readOutboxHeader, requireRebuild } from './metadata.ts';
import type { OutboxHeader } from './metadata.ts';
import { runCached, selectCached, selectRowCached } from './statements.ts';
import type { SchemaModel, TableModel } from './table-config.ts';
import type { EncodedPayload, PushedRowText } from './wire-text.ts';
import { encodeLocalPayload, keyTextOfKeyJson, tableNameText } from './wire-text.ts';
import { markVanishedUpsertsAsDeletesSql, pendingPayloadAnyTableExpr, requeuedPayloadExpr } from './pending-payload.ts';

/** One frozen row, with its wire form kept as canonical text (see `wire-text.ts`). */
export interface OutboxRow extends PushedRowText {
  ordinal: number;
  table: string;
  keyJson: string;
  op: WireOp;
  baseRowVersion: number;
  localPayload: string | null;
  /** Replaying this row exactly as pushed would leave the local row unchanged. */
  exact: boolean;
  /** Its committed form (`committedText`) spells a value differently from the local row (`EncodedPayload`). */
  respelled: boolean;
  /** The row as a wire object (built on demand: only conflict handling needs it). */
  readonly wire: PushRow;
}

/** The payload of a frozen DELETE. */
const NO_PAYLOAD: EncodedPayload = { payloadText: 'null', committedText: 'null', exact: true, respelled: false };

class FrozenRow implements OutboxRow {
  // The model's table name, not a parsed copy: one string for every row held through the push.
  readonly table: string;
  readonly tableText: string;
  readonly keyText: string;
  readonly payloadText: string;
  readonly committedText: string;
  readonly exact: boolean;
  readonly respelled: boolean;

  constructor(
    readonly ordinal: number,
    readonly keyJson: string,
    readonly op: WireOp,
    readonly baseRowVersion: number,
    private readonly model: TableModel,
    readonly schemaText: string,
    payload: EncodedPayload,
  ) {
    this.table = model.table;
    this.tableText = tableNameText(model);
    this.keyText = keyTextOfKeyJson(model, keyJson);
    this.payloadText = payload.payloadText;
    this.committedText = payload.committedText;
    this.exact = payload.exact;
    this.respelled = payload.respelled;
  }

  /**
   * The local payload as JSON text, for requeueing one row (conflict handling), rebuilt from the
   * wire form (not kept per row: a push holds every row in memory). Every reader turns it into
   * the same wire values again (encoding a decoded wire payload gives it back unchanged).
   */
  get localPayload(): string | null {
    return this.op === 'DELETE' ? null : wirePayloadToLocalJson(this.model, JSON.parse(this.payloadText) as WirePayload);
  }

  /** This row with another op and base, its payload as frozen (null: `payloadText` is dropped for a DELETE). */
  revised(op: WireOp, baseRowVersion: number, payload: EncodedPayload | null): FrozenRow {
    return new FrozenRow(
      this.ordinal,
      this.keyJson,
      op,
      baseRowVersion,
      this.model,
      this.schemaText,
      op === 'DELETE' ? NO_PAYLOAD : (payload ?? this),
    );
  }

  get wire(): PushRow {
    const wire: PushRow = {
      schema: JSON.parse(this.schemaText) as string,
      table: this.table,
      key: JSON.parse(this.keyText) as WireKey,
      op: this.op,
      base_row_version: this.baseRowVersion,
    };
    if (this.op !== 'DELETE') wire.payload = JSON.parse(this.payloadText) as WirePayload;
    return wire;
  }
}

/** A frozen outbox: its header and (when state is not 'none') its rows in push order. */
export interface FrozenOutbox {
  header: OutboxHeader;
  rows: OutboxRow[];
}

// Rows are read a page at a time as one JSON text built by SQLite (one value crosses the wasm
// boundary per page instead of eight per row; the stored payload JSON is spliced in unescaped, so
// one JSON.parse per page yields every row's payload object).
const READ_PAGE_ROWS = 5000;
// Pages are ordinal ranges (a rowid range scan: no sort). group_concat takes the rows in scan
// order; the reader checks the order anyway.
const READ_PAGE_SQL =
  `SELECT '[' || group_concat('[' || row_ordinal || ',' || json_quote(table_name) || ',' || json_quote(key_json) || ',"' || op || '",' ` +
  "|| base_row_version || ',' || coalesce(local_payload, 'null') || ']', ',') || ']' " +
  'FROM _sync_outbox_rows WHERE row_ordinal >= ? AND row_ordinal < ?';

const OPS: Record<WireOp, WireOp> = { INSERT: 'INSERT', UPDATE: 'UPDATE', DELETE: 'DELETE' };

type PageRow = [number, string, string, WireOp, number, Record<string, unknown> | null];

/** Rows with ordinals in [from, from + size), in ordinal order; halves the range when SQLite refuses a text that large. */
function readPage(ctx: EngineContext, from: number, size: number): { rows: PageRow[]; size: number } {
  for (;;) {
    try {
      const text = selectCached(ctx.db, READ_PAGE_SQL, [from, from + size]);
      const rows = text === null || text === undefined ? [] : (JSON.parse(String(text)) as PageRow[]);
      for (let i = 1; i < rows.length; i++) {
        if (rows[i]![0] < rows[i - 1]![0]) {
          rows.sort((a, b) => a[0] - b[0]);
          break;
        }
      }
      return { rows, size };
    } catch (e) {
      if (size === 1 || !/too big|SQLITE_TOOBIG|out of memory|SQLITE_NOMEM/i.test(e instanceof Error ? e.message : String(e))) throw e;
      size = Math.max(1, size >> 1);
    }
  }
}

/**
 * Reads the frozen rows in push order, encoding each local payload for the wire. Null when a
 * frozen upsert has no payload: its row was deleted without capture seeing it (see `freezeOutbox`).
 */
function readOutboxRows(ctx: EngineContext): OutboxRow[] | null {
  const out: OutboxRow[] = [];
  const schemaText = JSON.stringify(ctx.schema);
  const [first, last] = (selectRowCached(ctx.db, 'SELECT MIN(row_ordinal), MAX(row_ordinal) FROM _sync_outbox_rows', []) ?? []) as [
    number | null,
    number | null,
  ];
  if (first === null || first === undefined || last === null || last === undefined) return out;
  for (let from = Number(first), size = READ_PAGE_ROWS; from <= Number(last);) {
    const page = readPage(ctx, from, size);
    from += page.size;
    size = page.size;
    for (const [ordinal, table, keyJson, op, base, local] of page.rows) {
      const t = ctx.model.byName.get(table);
      if (!t) throw new SyncError('config_invalid', `the frozen outbox holds rows of ${table}, which is no longer a synced table`);
      if (op !== 'DELETE' && local === null) return null;
      // The op literal instead of the parsed copy: one string for every row held through the push.
      out.push(new FrozenRow(ordinal, keyJson, OPS[op], base, t, schemaText, op === 'DELETE' ? NO_PAYLOAD : encodeLocalPayload(t, local!)));
    }
  }
  return out;
}

interface FreezeSql {
  /** Every dirty row of the synced tables, in push order (binds: schema). */
  insert: string;
  /** The same when every dirty row is an upsert of one table (binds: schema, table). */
  insertOneTable: string;
  /** Whether the dirty set is upserts of a single table: [min table, max table, any delete]. */
  shape: string;
  drop: string;
  /** Whether any dirty row is not the freeze's to take (another schema, an unsynced table). */
  others: string;
}

const freezeSql = new WeakMap<SchemaModel, FreezeSql>();

/**
 * The set-based freeze statements of a model. Push order: upserts parents-first, then deletes
 * children-first, each in capture order. A key inserted and deleted again before the server ever
 * saw it (no payload, no live row_state) is not frozen; its dirty row is dropped with the rest.
 * Row ordinals are the rowids SQLite assigns in insertion order (the outbox is empty at a freeze),
 * so the INSERT's ORDER BY is the push order.
 */
function freezeStatements(model: SchemaModel): FreezeSql {
  let sql = freezeSql.get(model);
  if (!sql) {
    const names = model.tables.map((t) => sqlString(t.table)).join(', ');
    const order = `CASE d.table_name ${model.tables.map((t, i) => `WHEN ${sqlString(t.table)} THEN ${i}`).join(' ')} END`;
    const uuidTables = model.tables.filter((t) => t.key.uuidAsBlob);
    // The wire key as JSON text (informational: the push path derives the key from key_json).
    let wireKey = 'd.key_json';
    if (uuidTables.length) {
      const dashed = (t: TableModel): string => {
        const h = `json_extract(d.key_json, ${sqlString(`$.${t.key.wireName}`)})`;
        const part = (a: number, n?: number) => `substr(${h}, ${a}${n ? `, ${n}` : ''})`;
        return `json_object(${sqlString(t.key.wireName)}, ${part(1, 8)} || '-' || ${part(9, 4)} || '-' || ${part(13, 4)} || '-' || ${part(17, 4)} || '-' || ${part(21)})`;
      };
      wireKey = `CASE d.table_name ${uuidTables.map((t) => `WHEN ${sqlString(t.table)} THEN ${dashed(t)}`).join(' ')} ELSE d.key_json END`;
    }
    const live = 'rs.row_version IS NOT NULL AND rs.deleted = 0';
    // The payload is read here, from the live row (capture stores none; pending-payload.ts).
    const head =
      'INSERT INTO _sync_outbox_rows(row_ordinal, schema_name, table_name, key_json, wire_key_json, op, base_row_version, ' +
      'local_payload, dirty_ordinal) ' +
      `SELECT NULL, d.schema_name, d.table_name, d.key_json, ${wireKey}, ` +
      `CASE WHEN d.op = 'DELETE' THEN 'DELETE' WHEN ${live} THEN 'UPDATE' ELSE 'INSERT' END, ` +
      `d.base_row_version, ${pendingPayloadAnyTableExpr(model, 'd')}, d.dirty_ordinal`;
    const join =
      'LEFT JOIN _sync_row_state rs ON rs.schema_name = d.schema_name AND rs.table_name = d.table_name AND rs.key_json = d.key_json';
    sql = {
      insert:
        `${head} ` +
        `FROM _sync_dirty_rows d ${join} ` +
        `WHERE d.schema_name = ? AND d.table_name IN (${names}) AND (d.op <> 'DELETE' OR (${live})) ` +
        `ORDER BY d.op = 'DELETE', CASE WHEN d.op = 'DELETE' THEN -${order} ELSE ${order} END, d.dirty_ordinal`,
      // One table's upserts in capture order. Since layout 5 this sorts (`_sync_dirty_rows` is
      // clustered on the key, with no ordinal index, so that capture writes one B-tree): walking
      // an ordinal-ordered B-tree took ~125 ms for a 100,000-row freeze, a sort ~350-480 ms, once
      // per push instead of an index entry per captured write.
      insertOneTable:
        `${head} ` +
        `FROM _sync_dirty_rows d ${join} ` +
        "WHERE d.schema_name = ? AND d.table_name = ? AND d.op <> 'DELETE' " +
        'ORDER BY d.dirty_ordinal',
      shape:
        'SELECT (SELECT MIN(table_name) FROM _sync_dirty_rows WHERE schema_name = ?1), (SELECT MAX(table_name) FROM _sync_dirty_rows WHERE schema_name = ?1), ' +
        "EXISTS (SELECT 1 FROM _sync_dirty_rows WHERE schema_name = ?1 AND op = 'DELETE')",
      drop: `DELETE FROM _sync_dirty_rows WHERE schema_name = ? AND table_name IN (${names})`,
      others: `SELECT EXISTS (SELECT 1 FROM _sync_dirty_rows WHERE NOT (schema_name = ? AND table_name IN (${names})))`,
    };
    freezeSql.set(model, sql);
  }
  return sql;
}

/**
 * Whether some root of `_sync_dropped_rows` has a pending change the freeze does not send as a
 * DELETE (?1 schema): inserted then deleted before the server saw it (dropped as a no-op), or
 * written again by the app since.
 */
const DROPPED_UNDER_A_DELETE_NOT_PUSHED_SQL =
  'SELECT EXISTS (SELECT 1 FROM _sync_dropped_rows x ' +
  'CROSS JOIN _sync_dirty_rows d ON d.schema_name = x.schema_name AND d.table_name = x.root_table AND d.key_json = x.root_key_json ' +
  'LEFT JOIN _sync_row_state rs ON rs.schema_name = d.schema_name AND rs.table_name = d.table_name AND rs.key_json = d.key_json ' +
  "WHERE x.schema_name = ?1 AND NOT (d.op = 'DELETE' AND rs.row_version IS NOT NULL AND rs.deleted = 0))";

/**
 * Freezes the dirty rows into the outbox (one transaction, set-based in SQL) unless an outbox
 * already exists, which is then resumed unchanged. Returns the header (state 'none' when there is
 * nothing to push) and the frozen rows encoded for the wire. Encoding happens inside the freeze
 * transaction, so a value that cannot travel rolls the freeze back and the change stays pending.
 */
export function freezeOutbox(ctx: EngineContext, userId: string, sourceId: string, initializationId: string | null): FrozenOutbox {
  return applyTransaction(ctx.db, () => {
    const existing = readOutboxHeader(ctx.db);
    if (existing.state !== 'none') {
      const rows = readOutboxRows(ctx);
      if (rows === null) throw new SyncError('apply_failed', 'the frozen outbox holds an upsert without a payload');
      return { header: existing, rows };
    }
    const { others, drop } = freezeStatements(ctx.model);
    let frozen = freezeDirtyRows(ctx);
    let rows = frozen === 0 ? [] : readOutboxRows(ctx);
    if (rows === null) {
      // A pending upsert whose row is gone with no delete captured (written while the triggers
      // were dropped): the row was deleted, so that is what goes up. Rare, so only checked here.
      runCached(ctx.db, 'DELETE FROM _sync_outbox_rows', []);
      for (const t of ctx.model.tables) runCached(ctx.db, markVanishedUpsertsAsDeletesSql(t), [ctx.schema]);
      frozen = freezeDirtyRows(ctx);
      rows = frozen === 0 ? [] : readOutboxRows(ctx);
      if (rows === null) throw new SyncError('apply_failed', 'a frozen upsert has no payload after its vanished rows were marked deleted');
    }
    // Usually every dirty row was just frozen: an unqualified DELETE then empties the table in one
    // step (SQLite's truncate path) instead of removing 20,000 rows and their index entries one by one.
    if (Number(selectCached(ctx.db, others, [ctx.schema])) === 0) {
      runCached(ctx.db, 'DELETE FROM _sync_dirty_rows', []);
    } else runCached(ctx.db, drop, [ctx.schema]);
    if (frozen === 0) return { header: readOutboxHeader(ctx.db), rows: [] };
    const sourceBundleId = readNextSourceBundleId(ctx.db, sourceId, userId);
    prepareOutbox(ctx.db, { sourceId, userId, sourceBundleId, rowCount: rows.length, initializationId });
    return { header: readOutboxHeader(ctx.db), rows };
  });
}

/** Inside the freeze transaction: copies the dirty rows into the (empty) outbox in push order; returns how many. */
function freezeDirtyRows(ctx: EngineContext): number {
  const { insert, insertOneTable, shape } = freezeStatements(ctx.model);
  // Rows a pull dropped under a pending local delete (local-parent-deletes.ts) exist only on the
  // server when that delete does not go up after all: the next pull takes them from a snapshot.
  if (Number(selectCached(ctx.db, DROPPED_UNDER_A_DELETE_NOT_PUSHED_SQL, [ctx.schema])) === 1) requireRebuild(ctx.db);
  const [minTable, maxTable, anyDelete] = selectRowCached(ctx.db, shape, [ctx.schema]) ?? [];
  if (
    typeof minTable === 'string' &&
    minTable === maxTable &&
    Number(anyDelete) === 0 &&
    ctx.model.byName.get(minTable)?.table === minTable
  ) {
    runCached(ctx.db, insertOneTable, [ctx.schema, minTable]);
  } else {
    runCached(ctx.db, insert, [ctx.schema]);
  }
  return ctx.db.changes();
}

/**
 * Inside an apply transaction: returns every frozen row to the dirty set (keeping any newer edit
 * of the same key, rebased on the frozen base) except the keys in `skip`, and clears the outbox.
 * Frozen row r goes back with dirty ordinal `offset + r.ordinal` (before every pending change);
 * returns `offset`, for a skipped row given back later in the same transaction.
 */
export function requeueOutboxInTransaction(ctx: EngineContext, skip: Set<string> = new Set()): number {
  const skipped = [...skip].map((k) => k.split('\u0000'));
  const offset = ordinalOffsetBeforePending(
    ctx.db,
    Number(selectCached(ctx.db, 'SELECT MAX(row_ordinal) FROM _sync_outbox_rows', []) ?? 0),
  );
  runCached(
    ctx.db,
    'INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
      `SELECT ?1, o.table_name, o.key_json, o.op, o.base_row_version, ${requeuedPayloadExpr(ctx.model, 'o')}, ?3 + o.row_ordinal ` +
      'FROM _sync_outbox_rows o ' +
      'WHERE NOT EXISTS (SELECT 1 FROM json_each(?2) s WHERE s.value ->> 0 = o.table_name AND s.value ->> 1 = o.key_json) ' +
      'ORDER BY o.row_ordinal ' +
      'ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET base_row_version = excluded.base_row_version',
    [ctx.schema, JSON.stringify(skipped), offset],
  );
  clearOutbox(ctx.db);
  return offset;
}

/** How a conflict resolution changes the frozen row of its key: gone, or sent again as `op` on `baseRowVersion`. */
export type FrozenRowRevision = null | { op: WireOp; baseRowVersion: number; localPayload?: string };

/**
 * Inside an apply transaction: a conflict resolution applied to the frozen bundle in place (the
 * server reports one conflicting row per attempt, and giving 20,000 rows back to the dirty set to
 * freeze them again cost ~1 s per round). The row of `ordinal` is removed (`null`) or revised: its
 * op and base, and its payload when `localPayload` is given (else the frozen one). The bundle keeps
 * its `source_bundle_id` (the rejected attempt was never committed) and every other row; its
 * content changed, so a stored request hash is dropped (the next upload hashes the rows again).
 * Returns the rows as they now stand, or null when none is left (the outbox is then cleared).
 */
export function reviseFrozenRow(
  ctx: EngineContext,
  rows: readonly OutboxRow[],
  ordinal: number,
  revision: FrozenRowRevision,
): OutboxRow[] | null {
  const i = rows.findIndex((r) => r.ordinal === ordinal);
  const row = rows[i];
  if (!(row instanceof FrozenRow)) throw new SyncError('apply_failed', `frozen row ${ordinal} is not in the outbox as read`);
  const out = rows.slice();
  if (revision === null) {
    runCached(ctx.db, 'DELETE FROM _sync_outbox_rows WHERE row_ordinal = ?', [ordinal]);
    out.splice(i, 1);
    if (out.length === 0) {
      clearOutbox(ctx.db);
      return null;
    }
  } else {
    const { op, baseRowVersion, localPayload } = revision;
    const t = ctx.model.byName.get(row.table)!;
    const payload =
      op === 'DELETE' || localPayload === undefined ? null : encodeLocalPayload(t, JSON.parse(localPayload) as Record<string, unknown>);
    runCached(
      ctx.db,
      'UPDATE _sync_outbox_rows SET op = ?1, base_row_version = ?2, ' +
        "local_payload = CASE WHEN ?1 = 'DELETE' THEN NULL ELSE coalesce(?3, local_payload) END WHERE row_ordinal = ?4",
      [op, baseRowVersion, op === 'DELETE' || localPayload === undefined ? null : localPayload, ordinal],
    );
    out[i] = row.revised(op, baseRowVersion, payload);
  }
  runCached(ctx.db, "UPDATE _sync_outbox_bundle SET row_count = ?, canonical_request_hash = '' WHERE singleton_key = 1", [out.length]);
  return out;
}
