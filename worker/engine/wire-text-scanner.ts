/**
 * The scan of our server's response text in the layout its strings dialect writes
 * (`JSON.stringify`'s member order, no whitespace, no escape in a string, strings, booleans and
 * nulls as payload values), shared by the pull page (`pull-page-text.ts`) and snapshot chunk
 * (`snapshot-chunk-text.ts`) decoders: token reads, a row's table and key, and a payload read into
 * its staged tokens (the `snapshot-stage.ts` encoding). A text is only scanned once it passed
 * `isPlainText`, which is what lets a string end at the next quote.
 */
import { learnDialectFromValue } from './dialect.ts';
import type { EngineContext } from './context.ts';
import { tableOf } from './context.ts';
import { stageWireValue } from './snapshot-stage.ts';
import type { ColumnModel, TableModel } from './table-config.ts';

/** A backslash (an escape) or a control character (never raw in a JSON string). */
const NOT_PLAIN = /[\\\u0000-\u001f]/;

/** Whether `text` holds no escape and no control character: only such texts are scanned. */
export function isPlainText(text: string): boolean {
  return !NOT_PLAIN.test(text);
}

/** Per table: its key's start in a row and the payload member names in the order last seen. */
export interface RowTable {
  t: TableModel;
  keyHead: string;
  columnIndex: Map<string, number>;
  /** `"name":` per position in the last payload, with the column index, to try first. */
  order: { member: string; ci: number }[];
}

const rowTables = new WeakMap<TableModel, RowTable>();

function rowTable(t: TableModel): RowTable {
  let x = rowTables.get(t);
  if (!x) {
    x = {
      t,
      keyHead: `,"key":{${JSON.stringify(t.key.wireName)}:`,
      columnIndex: new Map(t.columns.map((c, ci) => [c.wireName, ci])),
      order: [],
    };
    rowTables.set(t, x);
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
 * Reads of a plain text (`isPlainText`) from position `i`: each advances on success and returns
 * false / -1 / null otherwise. `s` may be replaced as more text comes (a streamed pull page).
 */
export class WireTextScanner {
  s: string;
  i = 0;
  /** A value of an INTEGER/REAL/decimal column was read (see `learnNumericDialect`). */
  numericValues = false;
  #lastSchema: string | null = null;
  #lastTable: string | null = null;
  #table: RowTable | null = null;

  constructor(s: string) {
    this.s = s;
  }

  lit(literal: string): boolean {
    if (!this.s.startsWith(literal, this.i)) return false;
    this.i += literal.length;
    return true;
  }

  at(code: number): boolean {
    return this.s.charCodeAt(this.i) === code;
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

  /** A string token (its content), or null. The text is plain, so the closing quote is the next one. */
  str(): string | null {
    const s = this.s;
    if (s.charCodeAt(this.i) !== 34) return null;
    const end = s.indexOf('"', this.i + 1);
    if (end < 0) return null;
    const v = s.slice(this.i + 1, end);
    this.i = end + 1;
    return v;
  }

  /** A string token with its quotes (see `str`), or null. */
  quoted(): string | null {
    const s = this.s;
    if (s.charCodeAt(this.i) !== 34) return null;
    const end = s.indexOf('"', this.i + 1);
    if (end < 0) return null;
    const v = s.slice(this.i, end + 1);
    this.i = end + 1;
    return v;
  }

  /**
   * A row's `{"schema":…,"table":…,"key":{"<key column>":` (the table's, resolved by `tableOf`,
   * which throws for an unknown one), or null.
   */
  rowHead(ctx: EngineContext): RowTable | null {
    if (!this.lit('{"schema":')) return null;
    const schema = this.str();
    if (schema === null || !this.lit(',"table":')) return null;
    const table = this.str();
    if (table === null) return null;
    let tt = this.#table;
    if (schema !== this.#lastSchema || table !== this.#lastTable || tt === null) {
      this.#table = tt = rowTable(tableOf(ctx, schema, table, ''));
      this.#lastSchema = schema;
      this.#lastTable = table;
    }
    return this.lit(tt.keyHead) ? tt : null;
  }

  /**
   * A payload object of exactly `tt`'s columns, each value null, a string or a boolean, staged in
   * column order (throws as `stageWireValue` does): as JSON tokens when `json`, else the values. Or null.
   */
  payload(tt: RowTable, json: true): string[] | null;
  payload(tt: RowTable, json: false): (string | number | null)[] | null;
  payload(tt: RowTable, json: boolean): (string | number | null)[] | null {
    if (!this.lit('{')) return null;
    const t = tt.t;
    const staged = new Array<string | number | null | undefined>(t.columns.length);
    const order = tt.order;
    let members = 0;
    while (!this.lit('}')) {
      if (members > 0 && !this.lit(',')) return null;
      let ci: number | undefined;
      const expected = order[members];
      if (expected !== undefined && this.lit(expected.member)) {
        ci = expected.ci;
      } else {
        const name = this.str();
        ci = name === null ? undefined : tt.columnIndex.get(name);
        if (ci === undefined || !this.lit(':')) return null;
        order[members] = { member: `${JSON.stringify(name)}:`, ci };
      }
      if (staged[ci] !== undefined) return null;
      members++;
      if (this.lit('null')) {
        staged[ci] = json ? 'null' : null;
        continue;
      }
      const c = t.columns[ci]!;
      // Text is staged as it is sent: its token is the text's own (quotes included).
      if (c.family === 'text' || c.family === 'timestamp') {
        if ((staged[ci] = (json ? this.quoted() : this.str()) ?? undefined) === undefined) return null;
        continue;
      }
      let v: string | boolean | null;
      if (this.lit('true')) v = true;
      else if (this.lit('false')) v = false;
      else if ((v = this.str()) === null) return null;
      if (c.family === 'integer' || c.family === 'float' || c.family === 'decimal') this.numericValues = true;
      staged[ci] = json ? stagedToken(c, v) : (stageWireValue(c, v) as string | number);
    }
    return members === t.columns.length ? (staged as (string | number | null)[]) : null;
  }

  /** What `inboundValueReader` learns from the first INTEGER/REAL/decimal value (here a string): once the text is accepted. */
  learnNumericDialect(ctx: EngineContext): void {
    if (this.numericValues) learnDialectFromValue(ctx, '');
  }
}
