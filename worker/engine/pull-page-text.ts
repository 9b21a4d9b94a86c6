/**
 * A pull page decoded straight from its response text, without building the page's objects:
 * `JSON.parse` of a 10,000-row page makes ~100,000 objects, whose young-generation copies cost
 * more than the parse itself, and the rows' staged values were serialized again for SQLite. Here
 * one pass over the text checks the page and builds each row's staged JSON text (the
 * `snapshot-stage.ts` encoding) from the values as they stand in the text.
 *
 * Only the exact layout a strings-dialect server writes (`JSON.stringify`'s member order, no
 * whitespace, no escapes in a string, only strings and nulls as values) is taken, and only when
 * every check of `validatePullPage` passes. Anything else returns null, and the caller parses and
 * validates the text in the general way: it gives the same rows, or the same typed error. Nothing
 * is learned about the server before the whole page is accepted.
 */
import { parseJsonExact, WireValueError } from '../../protocol/index.ts';
import type { WirePayload } from '../../protocol/index.ts';
import { learnDialectFromValue } from './dialect.ts';
import { wireKeyToKeyJson } from './codec.ts';
import type { EngineContext } from './context.ts';
import { tableOf } from './context.ts';
import type { DecodedRow } from './pull.ts';
import { stageWireValue } from './snapshot-stage.ts';
import { stagePulledRows } from './pull-stage.ts';
import type { StageableRow } from './pull-stage.ts';
import type { ColumnModel, TableModel } from './table-config.ts';

/** A validated page: what `pullToStable` reads of it. */
export interface DecodedPullPage {
  stableBundleSeq: number;
  hasMore: boolean;
  bundles: { seq: number; rows: DecodedRow[] }[];
}

/** A row decoded from the page text; its payload is read from the text on demand. */
class TextRow implements StageableRow {
  ord: number | undefined = undefined;
  constructor(
    readonly t: TableModel,
    readonly keyJson: string,
    readonly op: 'INSERT' | 'UPDATE' | 'DELETE',
    readonly version: number,
    /** JSON text of the staged values (`snapshot-stage.ts`), null for a DELETE. */
    readonly stagedText: string | null,
    private readonly text: string,
    private readonly payloadStart: number,
    private readonly payloadEnd: number,
  ) {}

  get payload(): WirePayload | null {
    return this.stagedText === null ? null : parseJsonExact<WirePayload>(this.text.slice(this.payloadStart, this.payloadEnd));
  }
}

const QUOTE = 34;
const BACKSLASH = 92;

/** Index after the string token at `i` (no escapes, no control characters), or -1. */
function stringEnd(s: string, i: number): number {
  if (s.charCodeAt(i) !== QUOTE) return -1;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH || c < 32) return -1;
  }
  return -1;
}

/** Index after the non-negative integer token at `i` (canonical JSON: no leading zero), or -1. */
function integerEnd(s: string, i: number): number {
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) break;
    j++;
  }
  if (j === i || (s.charCodeAt(i) === 48 && j > i + 1) || j - i > 15) return -1;
  return j;
}

const NOT_TAKEN = null;

/**
 * The page `text` decoded and validated as `validatePullPage` does (for the request `after`,
 * `target`), or null when it is not in the layout taken here or fails a check (the general path
 * then decides).
 */
export function decodePullPageText(ctx: EngineContext, text: string, after: number, target: number): DecodedPullPage | null {
  const reader = new PullPageReader(ctx, after, target);
  reader.push(text, true);
  return reader.page!;
}

/**
 * A pull page decoded as its text arrives, piece by piece (`push`): each row is decoded once it is
 * complete, so most of a large streamed page is decoded by the time its last piece comes. After
 * the last piece, `page` is what `decodePullPageText` gives for the whole text. The text is held
 * once: what was scanned stays only as slices of the decoded texts (which the rows refer to
 * anyway), and `text()` rebuilds the whole page from them for the general path. Its reads (`lit`,
 * `int`, `str`, `at`) scan the text kept: each advances on success and returns false/-1/null
 * otherwise.
 */
export class PullPageReader {
  /** The decoded page once decided (null: not taken here; the general path decides). */
  page: DecodedPullPage | null | undefined;
  /** The text kept (from where the scan stood when the last batch came); `i` is the scan position in it. */
  s = '';
  i = 0;
  /**
   * The last row's start (Infinity once all text came): what starts before `cut - 1` (a `,` and a
   * row, a bundle, the `]` after them) is complete.
   */
  cut = -1;
  readonly #parse: Generator<void, DecodedPullPage | null>;
  /** The text scanned before `s` (slices of earlier texts kept), while the page is undecided. */
  readonly #scanned: string[] = [];
  /** Pieces not handed to the decoder yet, and their length. */
  #pending: string[] = [];
  #held = 0;
  readonly #batch: number;
  /** Rows decoded since the last batch, for the stage (`pull-stage.ts`); null: not staged. */
  readonly decoded: StageableRow[] | null;
  readonly #ctx: EngineContext;

  /**
   * `batch`: the text handed to the decoder at once, at least (tests cut pages finer); `stage`:
   * each batch's rows are staged into SQLite as they are decoded.
   */
  constructor(ctx: EngineContext, after: number, target: number, batch = 1 << 18, stage = false) {
    this.#parse = decode(ctx, this, after, target);
    this.#batch = batch;
    this.#ctx = ctx;
    this.decoded = stage ? [] : null;
  }

  /** The next piece of the text; `last`: the text ends with it. */
  push(text: string, last: boolean): void {
    // Taken: nothing more can come that matters (the decoder checked the end). Not taken: kept for `text()`.
    if (this.page !== undefined) {
      if (this.page === NOT_TAKEN) this.#pending.push(text);
      return;
    }
    this.#pending.push(text);
    this.#held += text.length;
    // Decoded in batches (256 K characters by default): each batch costs a copy of the text kept
    // and a resume, and network pieces of 16 KiB made that ~60 % of the decoding.
    if (!last && this.#held < this.#batch) return;
    // What is before the scan position is decoded: only the rest is copied on. Joined, not `+`:
    // the scans are slower on a concatenation (V8 cons string) than on a flat string.
    if (this.i > 0) this.#scanned.push(this.s.slice(0, this.i));
    this.s = [this.s.slice(this.i), ...this.#pending].join('');
    this.#pending = [];
    this.#held = 0;
    this.i = 0;
    // Everything before the last row's start is complete: in the layout taken here no string can
    // hold `{"schema":` (no escapes), and anything else found there fails a check below.
    this.cut = last ? Infinity : this.s.lastIndexOf('{"schema":');
    try {
      const r = this.#parse.next();
      if (r.done) this.page = r.value;
    } catch {
      // A check of the shared helpers failed (tableOf, wireKeyToKeyJson, stageWireValue): the
      // general path gives the typed error.
      this.page = NOT_TAKEN;
    }
    if (this.decoded !== null && this.decoded.length > 0) {
      if (this.page !== NOT_TAKEN) stagePulledRows(this.#ctx, this.decoded);
      this.decoded.length = 0;
    }
    if (this.page !== undefined && this.page !== NOT_TAKEN) {
      this.#scanned.length = 0;
      this.s = '';
      this.i = 0;
    }
  }

  /** The whole text pushed so far (for the general path, once the page is not taken here). */
  text(): string {
    return [...this.#scanned, this.s, ...this.#pending].join('');
  }

  lit(literal: string): boolean {
    if (!this.s.startsWith(literal, this.i)) return false;
    this.i += literal.length;
    return true;
  }

  /** A non-negative integer token (at most 15 digits: exact as a double), or -1. */
  int(): number {
    const end = integerEnd(this.s, this.i);
    if (end < 0) return -1;
    const n = Number(this.s.slice(this.i, end));
    this.i = end;
    return n;
  }

  /** A string token without escapes or control characters (its content), or null. */
  str(): string | null {
    const end = stringEnd(this.s, this.i);
    if (end < 0) return null;
    const v = this.s.slice(this.i + 1, end - 1);
    this.i = end;
    return v;
  }

  at(code: number): boolean {
    return this.s.charCodeAt(this.i) === code;
  }
}

/** Per table: the literals of its rows and the payload member names in the order last seen. */
interface TableText {
  t: TableModel;
  keyHead: string;
  columnIndex: Map<string, number>;
  /** `"name":` per position in the last payload, with the column index, to try first. */
  order: { member: string; ci: number }[];
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
    };
    tableTexts.set(t, x);
  }
  return x;
}

/** The decoder of `PullPageReader`: it waits (yields) before an element that may not be complete yet. */
function* decode(ctx: EngineContext, sc: PullPageReader, after: number, target: number): Generator<void, DecodedPullPage | null> {
  while (sc.i + 1 >= sc.cut) yield;
  if (!sc.lit('{"stable_bundle_seq":')) return NOT_TAKEN;
  const stable = sc.int();
  if (stable < 0 || !sc.lit(',"bundles":[')) return NOT_TAKEN;
  if (stable < after || (target > 0 && stable !== target)) return NOT_TAKEN;
  const bundles: { seq: number; rows: DecodedRow[] }[] = [];
  let numericValues = false;
  let prev = after;
  let lastSchema: string | null = null;
  let lastTable: string | null = null;
  let tt: TableText | null = null;
  for (;;) {
    while (sc.i + 1 >= sc.cut) yield;
    if (sc.at(93 /* ] */)) break;
    if (bundles.length > 0 && !sc.lit(',')) return NOT_TAKEN;
    if (!sc.lit('{"bundle_seq":')) return NOT_TAKEN;
    const seq = sc.int();
    if (seq <= prev || seq > stable) return NOT_TAKEN;
    prev = seq;
    if (!sc.lit(',"source_id":') || sc.str() === null) return NOT_TAKEN;
    if (!sc.lit(',"source_bundle_id":') || sc.int() < 0) return NOT_TAKEN;
    if (!sc.lit(',"row_count":') || sc.int() < 0) return NOT_TAKEN;
    if (!sc.lit(',"bundle_hash":') || sc.str() === null) return NOT_TAKEN;
    if (!sc.lit(',"rows":[')) return NOT_TAKEN;
    const rows: DecodedRow[] = [];
    for (;;) {
      while (sc.i + 1 >= sc.cut) yield;
      if (sc.at(93 /* ] */)) break;
      if (rows.length > 0 && !sc.lit(',')) return NOT_TAKEN;
      if (!sc.lit('{"schema":')) return NOT_TAKEN;
      const schema = sc.str();
      if (schema === null || !sc.lit(',"table":')) return NOT_TAKEN;
      const table = sc.str();
      if (table === null) return NOT_TAKEN;
      if (schema !== lastSchema || table !== lastTable || tt === null) {
        tt = tableText(tableOf(ctx, schema, table, ''));
        lastSchema = schema;
        lastTable = table;
      }
      const t = tt.t;
      if (!sc.lit(tt.keyHead)) return NOT_TAKEN;
      const keyValue = sc.str();
      if (keyValue === null) return NOT_TAKEN;
      let op: 'INSERT' | 'UPDATE' | 'DELETE';
      if (sc.lit('},"op":"INSERT","row_version":')) op = 'INSERT';
      else if (sc.lit('},"op":"UPDATE","row_version":')) op = 'UPDATE';
      else if (sc.lit('},"op":"DELETE","row_version":')) op = 'DELETE';
      else return NOT_TAKEN;
      const version = sc.int();
      if (version <= 0) return NOT_TAKEN;
      const keyJson = wireKeyToKeyJson(t, { [t.key.wireName]: keyValue }, '');
      if (op === 'DELETE') {
        if (!sc.lit('}')) return NOT_TAKEN;
        rows.push(new TextRow(t, keyJson, op, version, null, sc.s, 0, 0));
        continue;
      }
      if (!sc.lit(',"payload":')) return NOT_TAKEN;
      const payloadStart = sc.i;
      if (!sc.lit('{')) return NOT_TAKEN;
      const staged = new Array<string | undefined>(t.columns.length);
      const order = tt.order;
      let members = 0;
      while (!sc.at(125 /* } */)) {
        if (members > 0 && !sc.lit(',')) return NOT_TAKEN;
        let ci: number | undefined;
        const expected = order[members];
        if (expected !== undefined && sc.lit(expected.member)) {
          ci = expected.ci;
        } else {
          const name = sc.str();
          ci = name === null ? undefined : tt.columnIndex.get(name);
          if (ci === undefined || !sc.lit(':')) return NOT_TAKEN;
          order[members] = { member: `${JSON.stringify(name)}:`, ci };
        }
        if (staged[ci] !== undefined) return NOT_TAKEN;
        members++;
        if (sc.lit('null')) {
          staged[ci] = 'null';
          continue;
        }
        const v = sc.str();
        if (v === null) return NOT_TAKEN;
        const c = t.columns[ci]!;
        if (c.family === 'integer' || c.family === 'float' || c.family === 'decimal') numericValues = true;
        staged[ci] = stagedToken(c, v);
      }
      sc.i++;
      if (members !== t.columns.length || !sc.lit('}')) return NOT_TAKEN;
      const row = new TextRow(t, keyJson, op, version, `[${staged.join(',')}]`, sc.s, payloadStart, sc.i - 1);
      rows.push(row);
      sc.decoded?.push(row);
    }
    sc.i++;
    if (!sc.lit('}')) return NOT_TAKEN;
    bundles.push({ seq, rows });
  }
  sc.i++;
  if (bundles.length > 0 && stable === 0) return NOT_TAKEN;
  let hasMore: boolean;
  if (sc.lit(',"has_more":true}')) hasMore = true;
  else if (sc.lit(',"has_more":false}')) hasMore = false;
  else return NOT_TAKEN;
  if (sc.i !== sc.s.length) return NOT_TAKEN;
  // What `inboundValueReader` learns from the first INTEGER/REAL/decimal value (here a string).
  if (numericValues) learnDialectFromValue(ctx, '');
  return { stableBundleSeq: stable, hasMore, bundles };
}

/** The staged JSON token of string `v` (no escapes) in column `c`; throws `WireValueError` as `stageWireValue` does. */
function stagedToken(c: ColumnModel, v: string): string {
  const staged = stageWireValue(c, v);
  if (staged === v) return `"${v}"`;
  if (typeof staged === 'number') return String(staged);
  if (staged === null) throw new WireValueError(c.family, 'wrong_type', v, c.wireName);
  return JSON.stringify(staged);
}
