/**
 * Canonical JSON as the v1 contract defines it (RFC 8785 / JCS): object members sorted by their
 * UTF-16 code units, no whitespace, strings escaped as `JSON.stringify` does, numbers in their
 * ECMAScript shortest form. Because v1 carries integers and reals as strings, numbers only appear
 * inside nested json/jsonb values.
 */
import type { JsonValue } from './wire.ts';

/** Thrown when a value cannot be represented in canonical JSON (NaN, Infinity, undefined, ...). */
export class CanonicalJsonError extends Error {
  readonly code = 'canonical_json_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

/** Serializes `value` to canonical JSON text. */
export function canonicalJson(value: JsonValue): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`non-finite number ${value}`);
      return JSON.stringify(value); // -0 becomes "0", as JCS requires
    case 'object': {
      if (value === null) return 'null';
      // A number kept as text by the exact parser (`ExactJsonNumber`): the double, as JSON.stringify renders it.
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
        return canonicalJson((value as unknown as { toJSON(): JsonValue }).toJSON());
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const keys = Object.keys(value).sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const v = value[k];
        if (v === undefined) throw new CanonicalJsonError(`member "${k}" is undefined`);
        if (i > 0) out += ',';
        out += JSON.stringify(k) + ':' + canonicalJson(v);
      }
      return out + '}';
    }
    default:
      throw new CanonicalJsonError(`unsupported value of type ${typeof value}`);
  }
}

/** UTF-8 byte length of a string, without allocating the encoded bytes. */
export function utf8ByteLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Whether a parsed JSON value is an object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
