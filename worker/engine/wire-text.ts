/**
 * Canonical (RFC 8785 / JCS) text of push rows, built by string concatenation.
 *
 * The push path needs the same row in three textual forms: the request-hash material, the upload
 * body and (for replay) a comparison with what the server committed. Encoding each payload once
 * into its canonical text and splicing that text everywhere avoids building, serializing and
 * re-parsing one object per row per form. The text must be byte-identical to what
 * `protocol/hashes.ts` produces (test: `push-canonical-text-matches-protocol-hashes.test.ts`):
 * members are emitted in UTF-16 code-unit order (the table's columns are sorted once), strings go
 * through `JSON.stringify` (which is what `canonicalJson` does for strings), and anything else
 * (nested json values, or whatever a misbehaving server sends) through `canonicalJson` itself.
 */
import { canonicalJson, sha256Hex } from '../../protocol/index.ts';
import type { WireOp } from '../../protocol/index.ts';
import { keyJsonToDisplay, localValueToWire } from './codec.ts';
import { pgUtcTimestampText } from './pg-timestamp.ts';
import type { ColumnModel, TableModel } from './table-config.ts';

interface TableText {
  /** Columns in canonical member order with their `"name":` prefixes. */
  sorted: { c: ColumnModel; prefix: string }[];
  /**
   * The committed form may differ from the sent form: booleans go up as "0"/"1" and come back as
   * false/true; timestamps come back in PostgreSQL's UTC rendering (`pg-timestamp.ts`).
   */
  hasBoolean: boolean;
  hasTimestamp: boolean;
  /** `"<table>"`. */
  tableText: string;
}

const tableTexts = new WeakMap<TableModel, TableText>();

function tableText(t: TableModel): TableText {
  let tt = tableTexts.get(t);
  if (!tt) {
    // Default sort compares UTF-16 code units, which is JCS member order.
    const sorted = [...t.columns].sort((a, b) => (a.wireName < b.wireName ? -1 : a.wireName > b.wireName ? 1 : 0));
    tt = {
      sorted: sorted.map((c, i) => ({ c, prefix: `${i === 0 ? '{' : ','}${JSON.stringify(c.wireName)}:` })),
      hasBoolean: sorted.some((c) => c.family === 'boolean'),
      hasTimestamp: sorted.some((c) => c.family === 'timestamp'),
      tableText: JSON.stringify(t.table),
    };
    tableTexts.set(t, tt);
  }
  return tt;
}

/**
 * Whether a local value survives local → wire → local unchanged, so that applying the wire value
 * back would leave the stored row as it is. Conservative: anything whose type or text could change
 * (numbers in text columns, JSON text, BLOBs that may hold text, non-canonical spellings) is not.
 */
function exactLocal(c: ColumnModel, local: unknown, wire: unknown): boolean {
  if (local === null) return true;
  switch (c.family) {
    case 'integer':
    case 'boolean':
    case 'decimal':
    case 'text':
    case 'timestamp':
      return typeof local === 'string' && wire === local;
    case 'uuid':
      return !c.uuidAsBlob && typeof local === 'string' && wire === local;
    case 'float':
      // SQLite renders REALs in JSON with round-trip precision, so the double comes back as is.
      return typeof local === 'number';
    default:
      return false; // blob (the column may hold TEXT), json (text is re-serialized)
  }
}

/** A local payload encoded for the wire: canonical text plus whether replaying it is a no-op locally. */
export interface EncodedPayload {
  payloadText: string;
  /**
   * Canonical text of the same payload as a server sends it back: the protocol's outbound form of
   * a boolean is JSON `true`/`false` where clients send "1"/"0", and a timestamp comes back as
   * PostgreSQL renders it (same instant, microseconds, `+00:00`). The same string as `payloadText` when
   * nothing differs.
   */
  committedText: string;
  exact: boolean;
  /**
   * The committed form spells a value differently from the local row (a timestamp as PostgreSQL
   * renders it): replaying the committed form writes that spelling into the local row.
   */
  respelled: boolean;
}

/**
 * Local payload (parsed trigger JSON) → canonical wire payload text. Throws the codec's typed
 * `wire_value_invalid` for values that cannot travel.
 */
export function encodeLocalPayload(t: TableModel, local: Record<string, unknown>): EncodedPayload {
  const { sorted, hasBoolean, hasTimestamp } = tableText(t);
  if (sorted.length === 0) return { payloadText: '{}', committedText: '{}', exact: true, respelled: false };
  // Joined from parts: a flat string, not a tree of concatenations (the text lives as long as the push).
  const parts = new Array<string>(sorted.length * 2 + 1);
  let exact = true;
  for (let i = 0; i < sorted.length; i++) {
    const { c, prefix } = sorted[i]!;
    const lv = local[c.wireName];
    const wv = localValueToWire(t, c, lv);
    parts[2 * i] = prefix;
    parts[2 * i + 1] = typeof wv === 'string' ? JSON.stringify(wv) : canonicalJson(wv);
    if (exact && (lv === undefined || !exactLocal(c, lv, wv))) exact = false;
  }
  parts[sorted.length * 2] = '}';
  const text = parts.join('');
  if (!hasBoolean && !hasTimestamp) return { payloadText: text, committedText: text, exact, respelled: false };
  let changed = false;
  let respelled = false;
  for (let i = 0; i < sorted.length; i++) {
    const family = sorted[i]!.c.family;
    const v = parts[2 * i + 1]!;
    if (family === 'boolean') {
      if (v === '"1"') parts[2 * i + 1] = 'true';
      else if (v === '"0"') parts[2 * i + 1] = 'false';
      else continue;
      changed = true;
    } else if (family === 'timestamp' && v.length > 2 && v[0] === '"') {
      const pg = pgUtcTimestampText(JSON.parse(v) as string);
      if (pg === null) continue;
      const pgText = JSON.stringify(pg);
      if (pgText === v) continue;
      parts[2 * i + 1] = pgText;
      changed = true;
      respelled = true;
    }
  }
  return { payloadText: text, committedText: changed ? parts.join('') : text, exact, respelled };
}

/** Canonical text of a single-member key `{"<name>":"<value>"}`. */
export function keyText(name: string, value: string): string {
  return ['{', JSON.stringify(name), ':', JSON.stringify(value), '}'].join('');
}

/**
 * Canonical wire key text of a local `key_json`. For a TEXT key that is `key_json` itself:
 * SQLite's `json_object` escapes strings exactly as `JSON.stringify` does and the member name is
 * a plain lowercase column name (checked by push-canonical-text-matches-protocol-hashes.test.ts).
 * A BLOB UUID key travels as the dashed UUID instead of its hex.
 */
export function keyTextOfKeyJson(t: TableModel, keyJson: string): string {
  return t.key.uuidAsBlob ? keyText(t.key.wireName, keyJsonToDisplay(t, keyJson)) : keyJson;
}

/** One push row in its textual forms' ingredients. */
export interface PushRowText {
  schemaText: string;
  tableText: string;
  keyText: string;
  op: WireOp;
  baseRowVersion: number;
  /** Canonical payload text; unused for DELETE. */
  payloadText: string;
}

/** A pushed row with the payload text the server is expected to commit (see `EncodedPayload`). */
export interface PushedRowText extends PushRowText {
  committedText: string;
}

/** `"<table>"` of a table, cached. */
export function tableNameText(t: TableModel): string {
  return tableText(t).tableText;
}

// The texts below are joined from flat arrays of existing strings (constants, per-row texts)
// rather than built row by row with template literals: no intermediate string per row and per
// piece, which at 100,000 rows was a large share of the push's garbage collection.

/** Appends one row of the `canonical_request_hash` material (`pushRequestHashMaterial`'s element). */
function pushHashItem(out: string[], r: PushRowText, ordinal: number): void {
  out.push(
    '{"base_row_version":"',
    String(r.baseRowVersion),
    '","key":',
    r.keyText,
    ',"op":"',
    r.op,
    '","payload":',
    r.op === 'DELETE' ? 'null' : r.payloadText,
    ',"row_ordinal":"',
    String(ordinal),
    '","schema":',
    r.schemaText,
    ',"table":',
    r.tableText,
    '}',
  );
}

/** `canonical_request_hash` of rows starting at ordinal 0. */
export function pushRequestHashOf(rows: readonly PushRowText[]): Promise<string> {
  const out: string[] = ['['];
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out.push(',');
    pushHashItem(out, rows[i]!, i);
  }
  out.push(']');
  return sha256Hex(out.join(''));
}

/** Appends one row of a push chunk body (`PushRow` as JSON; DELETE rows carry no payload member). */
export function pushBodyRow(out: string[], r: PushRowText): void {
  out.push(
    '{"schema":',
    r.schemaText,
    ',"table":',
    r.tableText,
    ',"key":',
    r.keyText,
    ',"op":"',
    r.op,
    '","base_row_version":',
    String(r.baseRowVersion),
  );
  if (r.op === 'DELETE') out.push('}');
  else out.push(',"payload":', r.payloadText, '}');
}

/**
 * The `bundle_hash` the server's committed bundle has when it committed exactly these rows, in
 * this order, as bundle `seq` (every committed row carries `row_version = seq`), with payloads in
 * the protocol's outbound form (`committed`) or exactly as sent (`sent`).
 */
export function asPushedBundleHash(rows: readonly PushedRowText[], seq: number, form: 'committed' | 'sent'): Promise<string> {
  const version = `","row_version":"${seq}","schema":`;
  const out: string[] = ['['];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (i > 0) out.push(',');
    out.push(
      '{"key":',
      r.keyText,
      ',"op":"',
      r.op,
      '","payload":',
      r.op === 'DELETE' ? 'null' : form === 'committed' ? r.committedText : r.payloadText,
      ',"row_ordinal":"',
      String(i),
      version,
      r.schemaText,
      ',"table":',
      r.tableText,
      '}',
    );
  }
  out.push(']');
  return sha256Hex(out.join(''));
}
