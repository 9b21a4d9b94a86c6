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
 * digits within its range exactly): `JSON.parse` as is.
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
// (the slow parser, still correct).
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
  return new Parser(text).parseDocument() as T;
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

class Parser {
  #i = 0;
  readonly #s: string;
  constructor(s: string) {
    this.#s = s;
  }

  parseDocument(): ExactJsonValue {
    this.#ws();
    const v = this.#value();
    this.#ws();
    if (this.#i !== this.#s.length) this.#fail('unexpected text after the JSON value');
    return v;
  }

  #fail(why: string): never {
    throw new ExactJsonSyntaxError(`JSON: ${why} at position ${this.#i}`);
  }

  #ws(): void {
    const s = this.#s;
    while (this.#i < s.length) {
      const c = s.charCodeAt(this.#i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.#i++;
      else break;
    }
  }

  #value(): ExactJsonValue {
    const c = this.#s[this.#i];
    switch (c) {
      case '{':
        return this.#object();
      case '[':
        return this.#array();
      case '"':
        return this.#string();
      case 't':
        return this.#literal('true', true);
      case 'f':
        return this.#literal('false', false);
      case 'n':
        return this.#literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.#number();
        return this.#fail('unexpected character');
    }
  }

  #literal<V>(word: string, v: V): V {
    if (!this.#s.startsWith(word, this.#i)) this.#fail(`expected ${word}`);
    this.#i += word.length;
    return v;
  }

  #number(): number | ExactJsonNumber {
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.#i;
    const r = m.exec(this.#s);
    if (!r) return this.#fail('malformed number');
    this.#i += r[0].length;
    return doubleIsExact(r[0]) ? Number(r[0]) : new ExactJsonNumber(r[0]);
  }

  #string(): string {
    // Find the closing quote, then let JSON.parse decode escapes (exactly its rules).
    const s = this.#s;
    let j = this.#i + 1;
    let escaped = false;
    for (; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === 0x5c) {
        escaped = true;
        j++;
      } else if (c === 0x22) break;
    }
    if (j >= s.length) this.#fail('unterminated string');
    const raw = s.slice(this.#i, j + 1);
    this.#i = j + 1;
    if (!escaped) {
      if (/[\u0000-\u001f]/.test(raw)) this.#fail('control character in string');
      return raw.slice(1, -1);
    }
    try {
      return JSON.parse(raw) as string;
    } catch {
      return this.#fail('malformed string');
    }
  }

  #array(): ExactJsonValue[] {
    this.#i++;
    const out: ExactJsonValue[] = [];
    this.#ws();
    if (this.#s[this.#i] === ']') {
      this.#i++;
      return out;
    }
    for (;;) {
      this.#ws();
      out.push(this.#value());
      this.#ws();
      const c = this.#s[this.#i++];
      if (c === ']') return out;
      if (c !== ',') this.#fail('expected , or ]');
    }
  }

  #object(): Record<string, ExactJsonValue> {
    this.#i++;
    const out: Record<string, ExactJsonValue> = {};
    this.#ws();
    if (this.#s[this.#i] === '}') {
      this.#i++;
      return out;
    }
    for (;;) {
      this.#ws();
      if (this.#s[this.#i] !== '"') this.#fail('expected a member name');
      const k = this.#string();
      this.#ws();
      if (this.#s[this.#i++] !== ':') this.#fail('expected :');
      this.#ws();
      const v = this.#value();
      // Same as JSON.parse: a later duplicate wins; "__proto__" is an own data member.
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      this.#ws();
      const c = this.#s[this.#i++];
      if (c === '}') return out;
      if (c !== ',') this.#fail('expected , or }');
    }
  }
}
