/**
 * Keeps the identity of live-query results that did not change, so UI bindings can compare by
 * reference: an unchanged result is the same array, and an unchanged row keeps its object even
 * when a neighbouring row changed (list items that did not change do not re-render).
 */

/** Structural equality over what rows hold: SQL values, and the dates/objects/arrays a query builder maps them to. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    return a.every((item, i) => sameValue(item, b[i]));
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const recordA = a as Record<string, unknown>;
  const recordB = b as Record<string, unknown>;
  return keysA.every((key, i) => key === keysB[i] && sameValue(recordA[key], recordB[key]));
}

/**
 * `next`, with every row equal to the row at the same index of `previous` replaced by that row;
 * `previous` itself when nothing changed.
 */
export function reconcileRows<T>(previous: readonly T[], next: readonly T[]): readonly T[] {
  let changed = previous.length !== next.length;
  const merged = next.map((row, i) => {
    if (i < previous.length && sameValue(previous[i], row)) return previous[i]!;
    changed = true;
    return row;
  });
  return changed ? merged : previous;
}
