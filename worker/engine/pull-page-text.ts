/**
 * A pull page decoded straight from its response text, without building the page's objects:
 * `JSON.parse` of a 10,000-row page makes ~100,000 objects, whose young-generation copies cost
 * more than the parse itself, and the rows' staged values were serialized again for SQLite. Here
 * one pass over the text checks the page and stages each row's values (the `snapshot-stage.ts`
 * encoding) from the values as they stand in the text.
 *
 * Only the exact layout a strings-dialect server writes (`JSON.stringify`'s member order, no
 * whitespace, no escape or control character anywhere, only strings, booleans and nulls as payload
 * values; the scan `wire-text-scanner.ts` shares with snapshot chunks) is taken, and only when
 * every check of `validatePullPage` passes. Anything else returns null, and the caller parses and
 * validates the text in the general way: it gives the same rows, or the same typed error. Nothing
 * is learned about the server before the whole page is accepted.
 */
import { parseJsonExact } from '../../protocol/index.ts';
import type { WirePayload } from '../../protocol/index.ts';
import { wireKeyToKeyJson } from './codec.ts';
import type { EngineContext } from './context.ts';
import type { DecodedRow, StagedValue } from './pull.ts';
import type { TableModel } from './table-config.ts';
import { isPlainText, WireTextScanner } from './wire-text-scanner.ts';

/** A validated page: what `pullToStable` reads of it. */
export interface DecodedPullPage {
  stableBundleSeq: number;
  hasMore: boolean;
  bundles: { seq: number; rows: DecodedRow[] }[];
}

/** A row decoded from the page text; its payload is read from the text on demand. */
class TextRow implements DecodedRow {
  constructor(
    readonly t: TableModel,
    readonly keyJson: string,
    readonly op: 'INSERT' | 'UPDATE' | 'DELETE',
    readonly version: number,
    /** The staged values (`snapshot-stage.ts`), null for a DELETE. */
    readonly staged: StagedValue[] | null,
    private readonly text: string,
    private readonly payloadStart: number,
    private readonly payloadEnd: number,
  ) {}

  get payload(): WirePayload | null {
    return this.staged === null ? null : parseJsonExact<WirePayload>(this.text.slice(this.payloadStart, this.payloadEnd));
  }
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
 * anyway), and `text()` rebuilds the whole page from them for the general path.
 */
export class PullPageReader {
  /** The decoded page once decided (null: not taken here; the general path decides). */
  page: DecodedPullPage | null | undefined;
  /** The scan of the text kept (from where the scan stood when the last batch came). */
  readonly sc = new WireTextScanner('');
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

  /** `batch`: the text handed to the decoder at once, at least (tests cut pages finer). */
  constructor(ctx: EngineContext, after: number, target: number, batch = 1 << 18) {
    this.#parse = decode(ctx, this, this.sc, after, target);
    this.#batch = batch;
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
    const sc = this.sc;
    if (sc.i > 0) this.#scanned.push(sc.s.slice(0, sc.i));
    sc.s = [sc.s.slice(sc.i), ...this.#pending].join('');
    this.#pending = [];
    this.#held = 0;
    sc.i = 0;
    // Everything before the last row's start is complete: in the layout taken here no string can
    // hold `{"schema":` (no escapes), and anything else found there fails a check below.
    this.cut = last ? Infinity : sc.s.lastIndexOf('{"schema":');
    try {
      // What is kept is plain when the text scanned before was (the rest of a batch is re-checked).
      if (!isPlainText(sc.s)) this.page = NOT_TAKEN;
      else {
        const r = this.#parse.next();
        if (r.done) this.page = r.value;
      }
    } catch {
      // A check of the shared helpers failed (tableOf, wireKeyToKeyJson, stageWireValue): the
      // general path gives the typed error.
      this.page = NOT_TAKEN;
    }
    if (this.page !== undefined && this.page !== NOT_TAKEN) {
      this.#scanned.length = 0;
      this.sc.s = '';
      this.sc.i = 0;
    }
  }

  /** The whole text pushed so far (for the general path, once the page is not taken here). */
  text(): string {
    return [...this.#scanned, this.sc.s, ...this.#pending].join('');
  }
}

/** The decoder of `PullPageReader` (`rd`): it waits (yields) before an element that may not be complete yet. */
function* decode(
  ctx: EngineContext,
  rd: PullPageReader,
  sc: WireTextScanner,
  after: number,
  target: number,
): Generator<void, DecodedPullPage | null> {
  while (sc.i + 1 >= rd.cut) yield;
  if (!sc.lit('{"stable_bundle_seq":')) return NOT_TAKEN;
  const stable = sc.int();
  if (stable < 0 || !sc.lit(',"bundles":[')) return NOT_TAKEN;
  if (stable < after || (target > 0 && stable !== target)) return NOT_TAKEN;
  const bundles: { seq: number; rows: DecodedRow[] }[] = [];
  let prev = after;
  for (;;) {
    while (sc.i + 1 >= rd.cut) yield;
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
      while (sc.i + 1 >= rd.cut) yield;
      if (sc.at(93 /* ] */)) break;
      if (rows.length > 0 && !sc.lit(',')) return NOT_TAKEN;
      const tt = sc.rowHead(ctx);
      if (tt === null) return NOT_TAKEN;
      const t = tt.t;
      const k0 = sc.i;
      const keyValue = sc.str();
      if (keyValue === null) return NOT_TAKEN;
      // The key object as it stands in the text is its key_json (`wireKeyToKeyJson` writes the same
      // text: no escapes in it) unless the key is hex in key_json, empty, or has a surrogate
      // (JSON.stringify escapes a lone one). Its `}` is checked next.
      const keyJson =
        t.key.uuidAsBlob || keyValue === '' || /[\ud800-\udfff]/.test(keyValue)
          ? wireKeyToKeyJson(t, { [t.key.wireName]: keyValue }, '')
          : sc.s.slice(k0 - tt.keyHead.length + 7, sc.i + 1);
      let op: 'INSERT' | 'UPDATE' | 'DELETE';
      if (sc.lit('},"op":"INSERT","row_version":')) op = 'INSERT';
      else if (sc.lit('},"op":"UPDATE","row_version":')) op = 'UPDATE';
      else if (sc.lit('},"op":"DELETE","row_version":')) op = 'DELETE';
      else return NOT_TAKEN;
      const version = sc.int();
      if (version <= 0) return NOT_TAKEN;
      if (op === 'DELETE') {
        if (!sc.lit('}')) return NOT_TAKEN;
        rows.push(new TextRow(t, keyJson, op, version, null, sc.s, 0, 0));
        continue;
      }
      if (!sc.lit(',"payload":')) return NOT_TAKEN;
      const payloadStart = sc.i;
      const staged = sc.payload(tt, false);
      if (staged === null || !sc.lit('}')) return NOT_TAKEN;
      rows.push(new TextRow(t, keyJson, op, version, staged, sc.s, payloadStart, sc.i - 1));
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
  sc.learnNumericDialect(ctx);
  return { stableBundleSeq: stable, hasMore, bundles };
}
