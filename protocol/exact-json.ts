/**
 * JSON parsing that never rounds a number silently.
 *
 * A `go-json-numbers` peer (go-oversync 1f1118f) sends INTEGER/REAL column values as JSON numbers,
 * and its snapshots carry PostgreSQL's own text of a BIGINT (`9007199254740993`). `JSON.parse`
 * turns every number into a double, so such an integer would arrive as 9007199254740992 with no
 * sign of the loss (Node 20 has no reviver access to the source text). `parseJsonExact` keeps the
 * number's own text wherever a double could not reproduce it: those numbers come back as
 * `ExactJsonNumber` objects; every other number is a plain JS number (exact by construction).
 *
 * Fast path: a text without a number token of 16 digits (a decimal point allowed) or a 3-digit
 * exponent cannot hold such a number (a double carries any literal of at most 15 significant
 * digits within its range exactly): `JSON.parse` as is. Otherwise `JSON.parse` twice: once as is (which
 * decides what is JSON), once with each such number spelled as a marked string.
 */
/** A JSON number whose value a double cannot hold exactly, kept as its source text. */
export class ExactJsonNumber {
  constructor(readonly text: string) {}
  /** The nearest double (what `JSON.parse` would have produced). */
  toNumber(): number {
    return Number(this.text);
  }
  /** The exact integer when the literal is an integer (no fraction, no exponent); else null. */
  toBigInt(): bigint | null {
    return /^-?(0|[1-9]\d*)$/.test(this.text) ? BigInt(this.text) : null;
  }
  toJSON(): number {
    return this.toNumber();
  }
}

/** A parsed JSON value in which some numbers may be `ExactJsonNumber`. */
export type ExactJsonValue = null | boolean | number | string | ExactJsonNumber | ExactJsonValue[] | { [key: string]: ExactJsonValue };

/** Thrown for text that is not JSON (same condition as `JSON.parse`'s SyntaxError). */
export class ExactJsonSyntaxError extends SyntaxError {
  readonly code = 'json_invalid';
}

// A number token where a JSON value can start (after `:`, `,` or `[`) with 16 digits (a decimal
// point allowed between them) or a 3-digit exponent (overflow, underflow): the shortest literals a
// double may not reproduce. Digit runs inside strings (the strings dialect's int64 and float text)
// start after a quote and do not match; a run after a comma inside a string is a false positive
// (the slow path, still correct).
const CANDIDATE = /[:,[][ \t\r\n]*-?(?:\d(?:\.?\d){15}|\d+(?:\.\d+)?[eE][+-]?\d{3})/;

/** Whether `text` may hold a number token a double cannot reproduce (see `CANDIDATE`). */
function mayHoldInexactNumber(text: string): boolean {
  return CANDIDATE.test(text) || /^[ \t\r\n]*-?\d/.test(text);
}

/**
 * Parses JSON text; numbers a double cannot reproduce exactly become `ExactJsonNumber`. The result
 * is typed as `T` like `JSON.parse`'s; callers that read column values must expect the class.
 */
export function parseJsonExact<T = unknown>(text: string): T {
  if (!mayHoldInexactNumber(text)) return JSON.parse(text) as T;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ExactJsonSyntaxError(`JSON: ${(e as Error).message}`);
  }
  // The text is JSON, so TOKEN reads its strings and numbers exactly. Each number a double cannot
  // reproduce is re-spelled as a string behind a prefix of more NULs than the text could spell
  // (a NUL only as the escape \u0000), which no string of the document can start with.
  const n = text.split('\\u0000').length;
  const marker = '\\u0000'.repeat(n);
  let kept = false;
  const marked = text.replace(TOKEN, (token) => {
    if (token[0] === '"' || doubleIsExact(token)) return token;
    kept = true;
    return `"${marker}${token}"`;
  });
  return (kept ? restore(JSON.parse(marked), '\u0000'.repeat(n)) : value) as T;
}

/** A JSON string, or a JSON number (its whole token). */
const TOKEN = /"(?:[^"\\]|\\.)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** `v` with every string behind the `nuls` prefix turned back into the number it spelled. */
function restore(v: unknown, nuls: string): unknown {
  if (typeof v === 'string') return v.startsWith(nuls) ? new ExactJsonNumber(v.slice(nuls.length)) : v;
  if (v !== null && typeof v === 'object') {
    // An own "__proto__" member (as JSON.parse makes it) is set as a plain data property.
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = restore(o[k], nuls);
  }
  return v;
}

/** Whether a double reproduces the number literal exactly (so `Number(text)` loses nothing). */
function doubleIsExact(text: string): boolean {
  const mantissa = text.replace(/^-/, '').replace(/[eE].*$/, '');
  const digits = mantissa.replace('.', '').replace(/^0+/, '');
  const significant = digits.replace(/0+$/, '');
  const n = Number(text);
  // Overflow to Infinity, or a nonzero literal that underflows to 0.
  if (!Number.isFinite(n) || (n === 0 && significant !== '')) return false;
  if (significant.length <= 15) return true;
  // An integer literal: exact when the double converts back to the same integer.
  if (!/[.eE]/.test(text)) return BigInt(n) === BigInt(text);
  return false;
}
