/**
 * What the push path needs to speak to a `go-json-numbers` server (go-oversync 1f1118f):
 * - which pushed values it cannot carry exactly (its bundle rows pass every number through a Go
 *   float64, so an integer beyond 2^53 would be committed rounded while PostgreSQL keeps the exact
 *   value: refused before upload, naming table, key and column);
 * - the `bundle_hash` our pushed rows get when it commits them unchanged (Go material, values in
 *   its outbound form: numbers for INTEGER/REAL/decimal), so a push needs no download back;
 * - committed rows it sent, hashed in Go material and turned into our canonical value form.
 */
import { goJsonBundleHash } from '../../protocol/index.ts';
import type { BundleRow, WireKey, WirePayload } from '../../protocol/index.ts';
import { keyJsonToDisplay, numberToCanonicalWire } from './codec.ts';
import { SyncError } from './errors.ts';
import type { TableModel } from './table-config.ts';
import type { PushedRowText } from './wire-text.ts';

// Beyond ±(2^53 - 1) a float64 no longer tells neighbouring integers apart (2^53 + 1 → 2^53).
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether a canonical decimal/float text survives a Go float64 unchanged in meaning. */
function float64Exact(text: string): boolean {
  const digits = text
    .replace(/^-/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return digits.length <= 15;
}

/**
 * The first value of a pushed payload (canonical wire form) that a Go float64 would change, or
 * null. INTEGER beyond ±(2^53 - 1); decimal with more than 15 significant digits.
 */
export function firstNotCarriedByGo(t: TableModel, payload: WirePayload): { column: string; value: string } | null {
  for (const c of t.columns) {
    const v = payload[c.wireName];
    if (typeof v !== 'string') continue;
    if (c.family === 'integer') {
      const big = BigInt(v);
      if (big > MAX_EXACT || big < -MAX_EXACT) return { column: c.wireName, value: v };
    } else if (c.family === 'decimal' && !float64Exact(v)) {
      return { column: c.wireName, value: v };
    }
  }
  return null;
}

/** The typed refusal of a value a `go-json-numbers` server would round. */
export function notCarriedError(t: TableModel, keyJson: string, column: string, value: string): SyncError {
  const key = keyJsonToDisplay(t, keyJson);
  return new SyncError(
    'value_not_representable',
    `${t.table} key ${key} column ${column}: ${value} cannot be pushed exactly to this server (go-json-numbers dialect: ` +
      `values travel as float64, exact only within ±(2^53 - 1)); the change stays pending, nothing was sent`,
    undefined,
    { table: t.table, key, column, value },
  );
}

/** A canonical wire payload in go-oversync's outbound form (what its committed rows carry). */
function goOutboundPayload(t: TableModel, payload: WirePayload): WirePayload {
  const out: WirePayload = {};
  for (const c of t.columns) {
    const v = payload[c.wireName] ?? null;
    out[c.wireName] = typeof v === 'string' && (c.family === 'integer' || c.family === 'float' || c.family === 'decimal') ? Number(v) : v;
  }
  return out;
}

/**
 * `bundle_hash` (Go material) of our pushed rows committed unchanged as bundle `seq`, with payloads
 * in the committed form (`committedText`: booleans and timestamps as the server renders them).
 */
export function goAsPushedBundleHash(rows: readonly PushedRowText[], seq: number, tableOf: (name: string) => TableModel): Promise<string> {
  const bundle: BundleRow[] = rows.map((r) => {
    const table = JSON.parse(r.tableText) as string;
    return {
      schema: JSON.parse(r.schemaText) as string,
      table,
      key: JSON.parse(r.keyText) as WireKey,
      op: r.op,
      row_version: seq,
      payload: r.op === 'DELETE' ? null : goOutboundPayload(tableOf(table), JSON.parse(r.committedText) as WirePayload),
    };
  });
  return goJsonBundleHash(bundle);
}

/**
 * `bundle_hash` in Go material of committed rows as served (an `ExactJsonNumber` is the float64
 * Go would parse: `goCanonicalJson` renders it by its `toJSON`).
 */
export const goCommittedBundleHash = goJsonBundleHash;

/**
 * A served payload with its JSON numbers in our canonical value form (exact, or a typed
 * `WireValueError`; `mayBeRounded`: it went through a Go float64, so integers beyond ±(2^53 - 1)
 * are refused); members of unknown columns are left for the shape check.
 */
export function canonicalPayloadOf(t: TableModel, payload: unknown, mayBeRounded = true): unknown {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return payload;
  const out: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
  for (const c of t.columns) if (c.wireName in out) out[c.wireName] = numberToCanonicalWire(c, out[c.wireName], mayBeRounded);
  return out;
}
