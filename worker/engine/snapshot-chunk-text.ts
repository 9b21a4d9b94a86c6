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
import { wireKeyToKeyJson } from './codec.ts';
import type { EngineContext } from './context.ts';
import type { StagedTableRows } from './snapshot-stage.ts';
import type { TableModel } from './table-config.ts';
import { isPlainText, WireTextScanner } from './wire-text-scanner.ts';
import type { RowTable } from './wire-text-scanner.ts';
import type { SnapshotSessionResponse } from '../../protocol/index.ts';

/** A chunk decoded from its text: what `stage` reads of it. */
export interface DecodedSnapshotChunk {
  nextRowOrdinal: number;
  hasMore: boolean;
  staged: StagedTableRows[];
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
  if (!isPlainText(text)) return null;
  try {
    return decode(ctx, new WireTextScanner(text), s, after);
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
  /**
   * A row's `states` entry is `[JSON.stringify(key_json),version]`; for a TEXT key without
   * escapes that is `stateHead + value + STATE_TAIL + version + "]"` (no BLOB uuid key: null).
   */
  stateHead: string | null;
}

const STATE_TAIL = `${JSON.stringify('"}').slice(1)},`;

function decode(ctx: EngineContext, sc: WireTextScanner, s: SnapshotSessionResponse, after: number): DecodedSnapshotChunk | null {
  if (!sc.lit('{"snapshot_id":') || sc.str() !== s.snapshot_id) return null;
  if (!sc.lit(',"snapshot_bundle_seq":') || sc.int() !== s.snapshot_bundle_seq) return null;
  if (!sc.lit(',"rows":[')) return null;
  const groups = new Map<TableModel, Group>();
  let count = 0;
  let lastTable: RowTable | null = null;
  let group: Group | null = null;
  while (!sc.lit(']')) {
    if (count > 0 && !sc.lit(',')) return null;
    const tt = sc.rowHead(ctx);
    if (tt === null) return null;
    const t = tt.t;
    if (tt !== lastTable) {
      lastTable = tt;
      group = groups.get(t) ?? null;
      if (!group) {
        const stateHead = t.key.uuidAsBlob ? null : `[${JSON.stringify(`{${JSON.stringify(t.key.wireName)}:"`).slice(0, -1)}`;
        groups.set(t, (group = { model: t, rows: [], count: 0, states: [], highest: 0, stateHead }));
      }
    }
    const g = group!;
    const keyValue = sc.str();
    if (keyValue === null || !sc.lit('},"row_version":')) return null;
    const version = sc.int();
    if (version <= 0 || !sc.lit(',"payload":')) return null;
    let state: string;
    if (g.stateHead !== null) {
      if (keyValue === '') return null;
      state = g.stateHead + keyValue + STATE_TAIL + version + ']';
    } else state = `[${JSON.stringify(wireKeyToKeyJson(t, { [t.key.wireName]: keyValue }, ''))},${version}]`;
    const staged = sc.payload(tt, true);
    if (staged === null || !sc.lit('}')) return null;
    const parts = g.rows;
    parts.push(g.count === 0 ? '[' : ',[');
    for (let ci = 0; ci < staged.length; ci++) parts.push(staged[ci]!, ci === staged.length - 1 ? ']' : ',');
    g.count++;
    g.states.push(state);
    if (version > g.highest) g.highest = version;
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
  sc.learnNumericDialect(ctx);
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
