/** Strict parsing of integer query and path parameters. */

/** Thrown for a malformed parameter; the route maps it to its own error code. */
export class ParamError extends Error {}

const DIGITS = /^(0|[1-9]\d{0,15})$/;

/** Parses a non-negative safe integer; `undefined`/empty gives `fallback`. */
export function nonNegativeInt(raw: string | null | undefined, name: string, fallback: number | null): number | null {
  if (raw === null || raw === undefined || raw === '') return fallback;
  if (!DIGITS.test(raw) || !Number.isSafeInteger(Number(raw))) throw new ParamError(`${name} must be a non-negative integer`);
  return Number(raw);
}

/** Parses a positive integer, capped at `cap` (values above are clamped, not rejected). */
export function positiveIntCapped(raw: string | null, name: string, fallback: number, cap: number): number {
  const n = nonNegativeInt(raw, name, fallback)!;
  if (n <= 0) throw new ParamError(`${name} must be a positive integer`);
  return Math.min(n, cap);
}
