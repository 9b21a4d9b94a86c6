/**
 * A snapshot chunk decoded straight from its response text, without building its objects: a
 * 5,000-row chunk parsed by `JSON.parse` makes ~15,000 objects and 20,000 strings, validated and
 * serialized again for SQLite (`encodeSnapshotRows`); for a 1M-row hydrate that parse and re-encode
 * took about as long as a third of the rows' insert. Here one pass over the text checks the chunk
 * and builds each table's staged `rows` and `states` JSON text (the `snapshot-stage.ts` encoding)
 * from the values as they stand in the text.
 *
 * Only the exact layout our server writes in the strings dialect (`JSON.stringify`'s member
 * order, no whitespace, no escapes in a string, only strings, booleans and nulls as payload values)
 * is taken, and only when every check of `validateSnapshotChunk` and `encodeSnapshotRows` passes.
 * Anything else returns null, and the caller parses and validates the text in the general way: it
 * gives the same rows, or the same typed error.
 */
import { learnDialectFromValue } from './dialect.ts';
import { wireKeyToKeyJson } from './codec.ts';
import type { EngineContext } from './context.ts';
import { tableOf } from './context.ts';
import { stageWireValue } from './snapshot-stage.ts';
import type { StagedTableRows } from './snapshot-stage.ts';
import type { ColumnModel, TableModel } from './table-config.ts';
import type { SnapshotSessionResponse } from '../../protocol/index.ts';

/** A chunk decoded from its text: what `stage` reads of it. */
export interface DecodedSnapshotChunk {
  nextRowOrdinal: number;
  hasMore: boolean;
  staged: StagedTableRows[];
}

/** Reads of the chunk text: each advances on success and returns false / -1 / null otherwise. */
class ChunkScanner {
  i = 0;
  constructor(readonly s: string) {}

  lit(literal: string): boolean {
    if (!this.s.startsWith(literal, this.i)) return false;
    this.i += literal.length;
    return true;
  }

  /** A non-negative integer token (at most 15 digits, no leading zero: exact as a double), or -1. */
  int(): number {
    const s = this.s;
    const start = this.i;
    let j = start;
    for (; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c < 48 || c > 57) break;
    }
    if (j === start || (s.charCodeAt(start) === 48 && j > start + 1) || j - start > 15) return -1;
    this.i = j;
    return Number(s.slice(start, j));
  }

  /**
   * A string token (its content), or null. The whole text was checked to hold no escape and no
   * control character (`NOT_PLAIN`), so the closing quote is the next one.
   */
  str(): string | null {
    const s = this.s;
    if (s.charCodeAt(this.i) !== 34) return null;
    const end = s.indexOf('"', this.i + 1);
    if (end < 0) return null;
    const v = s.slice(this.i + 1, end);
    this.i = end + 1;
    return v;
  }

  /** A string token with its quotes (no escape in it, see `str`), or null. */
  quoted(): string | null {
    const s = this.s;
    if (s.charCodeAt(this.i) !== 34) return null;
    const end = s.indexOf('"', this.i + 1);
    if (end < 0) return null;
    const v = s.slice(this.i, end + 1);
    this.i = end + 1;
    return v;
  }
}

/** A backslash (an escape) or a control character (never raw in a JSON string): texts holding one are not taken. */
const NOT_PLAIN = /[\\\u0000-\u001f]/;

/** Per table: its key's start in a row and the payload member names in the order last seen. */
interface TableText {
  t: TableModel;
  keyHead: string;
  columnIndex: Map<string, number>;
  /** `"name":` per position in the last payload, with the column index, to try first. */
  order: { member: string; ci: number }[];
  /**
   * A row's `states` entry is `[JSON.stringify(key_json),version]`; for a TEXT key without
   * escapes that is `stateHead + value + stateTail + version + "]"` (no BLOB uuid key: null).
   */
  stateHead: string | null;
  stateTail: string;
}

const tableTexts = new WeakMap<TableModel, TableText>();

function tableText(t: TableModel): TableText {
  let x = tableTexts.get(t);
  if (!x) {
    x = {
      t,
      keyHead: `,"key":{${JSON.stringify(t.key.wireName)}:`,
      columnIndex: new Map(t.columns.map((c, ci) => [c.wireName, ci])),
      order: [],
      stateHead: t.key.uuidAsBlob ? null : `[${JSON.stringify(`{${JSON.stringify(t.key.wireName)}:"`).slice(0, -1)}`,
      stateTail: `${JSON.stringify('"}').slice(1)},`,
    };
    tableTexts.set(t, x);
  }
  return x;
}

/** The staged JSON token of payload value `v` (a string without escapes, or a boolean) in column `c`; throws as `stageWireValue` does. */
function stagedToken(c: ColumnModel, v: string | boolean): string {
  const staged = stageWireValue(c, v);
  if (staged === v) return `"${v}"`;
  if (typeof staged === 'number') return String(staged);
  return JSON.stringify(staged);
}

/**
 * The chunk `text` (answering the request after row `after` of session `s`) decoded and validated
 * as `validateSnapshotChunk` and `encodeSnapshotRows` do, or null when it is not in the layout
 * taken here or fails a check (the general path then decides).
 */
export function decodeSnapshotChunkText(
  ctx: EngineContext,
  text: string,
  s: SnapshotSessionResponse,
  after: number,
): DecodedSnapshotChunk | null {
  if (NOT_PLAIN.test(text)) return null;
  try {
    return decode(ctx, new ChunkScanner(text), s, after);
  } catch {
    // A check of the shared helpers failed (tableOf, wireKeyToKeyJson, stageWireValue): the
    // general path gives the typed error.
    return null;
  }
}

interface Group {
  model: TableModel;
  /** The staged `rows` text in pieces (`[` or `,[`, each value's token and `,` or `]`). */
  rows: string[];
  count: number;
  states: string[];
  highest: number;
}

function decode(ctx: EngineContext, sc: ChunkScanner, s: SnapshotSessionResponse, after: number): DecodedSnapshotChunk | null {
  if (!sc.lit('{"snapshot_id":') || sc.str() !== s.snapshot_id) return null;
  if (!sc.lit(',"snapshot_bundle_seq":') || sc.int() !== s.snapshot_bundle_seq) return null;
  if (!sc.lit(',"rows":[')) return null;
  const groups = new Map<TableModel, Group>();
  let numericValues = false;
  let count = 0;
  let lastSchema: string | null = null;
  let lastTable: string | null = null;
  let tt: TableText | null = null;
  let group: Group | null = null;
  while (!sc.lit(']')) {
    if (count > 0 && !sc.lit(',')) return null;
    if (!sc.lit('{"schema":')) return null;
    const schema = sc.str();
    if (schema === null || !sc.lit(',"table":')) return null;
    const table = sc.str();
    if (table === null) return null;
    if (schema !== lastSchema || table !== lastTable || tt === null) {
      tt = tableText(tableOf(ctx, schema, table, ''));
      lastSchema = schema;
      lastTable = table;
      group = groups.get(tt.t) ?? null;
      if (!group) groups.set(tt.t, (group = { model: tt.t, rows: [], count: 0, states: [], highest: 0 }));
    }
    const t = tt.t;
    if (!sc.lit(tt.keyHead)) return null;
    const keyValue = sc.str();
    if (keyValue === null || !sc.lit('},"row_version":')) return null;
    const version = sc.int();
    if (version <= 0 || !sc.lit(',"payload":')) return null;
    let state: string;
    if (tt.stateHead !== null) {
      if (keyValue === '') return null;
      state = tt.stateHead + keyValue + tt.stateTail + version + ']';
    } else state = `[${JSON.stringify(wireKeyToKeyJson(t, { [t.key.wireName]: keyValue }, ''))},${version}]`;
    if (!sc.lit('{')) return null;
    const staged = new Array<string | undefined>(t.columns.length);
    const order = tt.order;
    let members = 0;
    while (!sc.lit('}')) {
      if (members > 0 && !sc.lit(',')) return null;
      let ci: number | undefined;
      const expected = order[members];
      if (expected !== undefined && sc.lit(expected.member)) {
        ci = expected.ci;
      } else {
        const name = sc.str();
        ci = name === null ? undefined : tt.columnIndex.get(name);
        if (ci === undefined || !sc.lit(':')) return null;
        order[members] = { member: `${JSON.stringify(name)}:`, ci };
      }
      if (staged[ci] !== undefined) return null;
      members++;
      if (sc.lit('null')) {
        staged[ci] = 'null';
        continue;
      }
      const c = t.columns[ci]!;
      // Text is staged as it is sent: its token is the text's own (quotes included).
      if (c.family === 'text' || c.family === 'timestamp') {
        if ((staged[ci] = sc.quoted() ?? undefined) === undefined) return null;
        continue;
      }
      let v: string | boolean | null;
      if (sc.lit('true')) v = true;
      else if (sc.lit('false')) v = false;
      else if ((v = sc.str()) === null) return null;
      if (c.family === 'integer' || c.family === 'float' || c.family === 'decimal') numericValues = true;
      staged[ci] = stagedToken(c, v);
    }
    if (members !== t.columns.length || !sc.lit('}')) return null;
    const parts = group!.rows;
    parts.push(group!.count === 0 ? '[' : ',[');
    for (let ci = 0; ci < staged.length; ci++) parts.push(staged[ci]!, ci === staged.length - 1 ? ']' : ',');
    group!.count++;
    group!.states.push(state);
    if (version > group!.highest) group!.highest = version;
    count++;
  }
  if (count > 0 && s.snapshot_bundle_seq === 0) return null;
  if (!sc.lit(',"next_row_ordinal":') || sc.int() !== after + count) return null;
  if (!sc.lit(',"byte_count":') || sc.int() < 0) return null;
  let hasMore: boolean;
  if (sc.lit(',"has_more":true}')) hasMore = true;
  else if (sc.lit(',"has_more":false}')) hasMore = false;
  else return null;
  if (sc.i !== sc.s.length || (hasMore && count === 0)) return null;
  // What `inboundValueReader` learns from the first INTEGER/REAL/decimal value (here a string).
  if (numericValues) learnDialectFromValue(ctx, '');
  return {
    nextRowOrdinal: after + count,
    hasMore,
    staged: [...groups.values()].map((g) => ({
      model: g.model,
      table: g.model.table,
      count: g.count,
      rows: `[${g.rows.join('')}]`,
      states: `[${g.states.join(',')}]`,
      highestVersion: g.highest,
    })),
  };
}
