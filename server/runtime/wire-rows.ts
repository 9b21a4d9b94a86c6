/**
 * Turning stored rows into wire rows: op codes, key objects, and the one value the database
 * cannot render in wire form itself (floats: PostgreSQL's shortest text differs from the
 * ECMAScript shortest round-trip form the contract uses, e.g. `1e+15` vs `1000000000000000`).
 */
import { canonicalFloatString } from '../../protocol/values.ts';
import type { JsonValue, WireKey, WireOp, WirePayload } from '../../protocol/wire.ts';
import type { CatalogTable } from './catalog.ts';

/** Stored op codes. */
export const OpCode = { INSERT: 1, UPDATE: 2, DELETE: 3 } as const;

/** Wire name of a stored op code. */
export function opName(code: number): WireOp {
  return code === 1 ? 'INSERT' : code === 2 ? 'UPDATE' : 'DELETE';
}

/** The wire key object of a stored key. */
export function wireKey(table: CatalogTable, keyText: string): WireKey {
  return { [table.keyColumn]: keyText };
}

/** Finishes a payload read from the database (in place) and returns it. */
export function finishPayload(table: CatalogTable, payload: Record<string, JsonValue>): WirePayload {
  for (const col of table.floatColumns) {
    const v = payload[col];
    if (typeof v === 'string') payload[col] = canonicalFloatString(Number(v));
  }
  return payload;
}
