/**
 * `parseJsonExact` (protocol/exact-json.ts): the same value as `JSON.parse` for every document,
 * except that a number a double cannot reproduce keeps its own text (`ExactJsonNumber`), so a
 * BIGINT from a JSON-numbers server is never rounded silently. Randomized documents print their seed.
 */
import { describe, expect, it } from 'vitest';
import { ExactJsonNumber, ExactJsonSyntaxError, parseJsonExact } from '../../protocol/index.ts';
import { seededRandom } from '../harness/seeded-random.ts';

/** Replaces ExactJsonNumber by the double JSON.parse would give, for comparison. */
function asDoubles(v: unknown): unknown {
  if (v instanceof ExactJsonNumber) return v.toNumber();
  if (Array.isArray(v)) return v.map(asDoubles);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asDoubles(x)]));
  return v;
}

describe('parseJsonExact', () => {
  it('keeps the text of integers beyond 2^53 and of 16+ digit fractions', () => {
    const v = parseJsonExact<{ a: unknown; b: unknown; c: unknown; d: unknown; e: unknown; f: unknown; s: string }>(
      '{"a":9007199254740993,"b":-12345678901234567890,"c":0.30000000000000004,"d":9007199254740992,"e":1e400,"f":-1e-400,"s":"9007199254740993"}',
    );
    expect(v.a).toEqual(new ExactJsonNumber('9007199254740993'));
    expect((v.a as ExactJsonNumber).toBigInt()).toBe(9007199254740993n);
    expect(v.b).toEqual(new ExactJsonNumber('-12345678901234567890'));
    expect(v.c).toEqual(new ExactJsonNumber('0.30000000000000004'));
    expect((v.c as ExactJsonNumber).toNumber()).toBe(0.1 + 0.2);
    expect(v.d).toBe(9007199254740992); // 2^53: a double holds it exactly
    expect(v.e).toEqual(new ExactJsonNumber('1e400')); // JSON.parse: Infinity
    expect(v.f).toEqual(new ExactJsonNumber('-1e-400')); // JSON.parse: -0
    expect(v.s).toBe('9007199254740993');
  });

  it('parses strings with escapes, nesting and whitespace like JSON.parse', () => {
    const text =
      ' { "k\\u0026\\"" : [ 1234567890123456789 , "a\\u2028b\\\\" , true , false , null , { } , [ ] , -0 , 1.5e-7 ] , "__proto__" : 1 } ';
    const v = parseJsonExact<Record<string, unknown>>(text);
    expect(asDoubles(v)).toEqual(JSON.parse(text));
    expect(Object.prototype.hasOwnProperty.call(v, '__proto__')).toBe(true);
  });

  it('tells kept numbers from strings that start with NULs, and keeps __proto__ an own member', () => {
    const text = '{"a":"\\u0000\\u00001234567890123456789","\\u0000":[12345678901234567890,"\\u0000"],"__proto__":-98765432109876543210}';
    const v = parseJsonExact<Record<string, unknown>>(text);
    expect(v.a).toBe('\u0000\u00001234567890123456789');
    expect(v['\u0000']).toEqual([new ExactJsonNumber('12345678901234567890'), '\u0000']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual(new ExactJsonNumber('-98765432109876543210'));
  });

  it('rejects what JSON.parse rejects', () => {
    for (const bad of [
      '{"a":12345678901234567,}',
      '[12345678901234567',
      '{"a":01234567890123456}',
      '"\u0001 1234567890123456"',
      '[1234567890123456] x',
    ]) {
      expect(() => JSON.parse(bad), bad).toThrow();
      expect(() => parseJsonExact(bad), bad).toThrow(SyntaxError);
      if (bad !== '"\u0001 1234567890123456"') expect(() => parseJsonExact(bad), bad).toThrow(ExactJsonSyntaxError);
    }
  });

  it('equals JSON.parse on random documents (numbers compared as doubles)', () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    console.log(`exact-json randomized seed=${seed}`);
    const r = seededRandom(seed);
    const num = (): string => {
      const digits = 1 + Math.floor(r() * 22);
      let s = String(1 + Math.floor(r() * 9));
      for (let i = 1; i < digits; i++) s += String(Math.floor(r() * 10));
      if (r() < 0.3) s = `${s.slice(0, 1 + Math.floor(r() * s.length))}.${s.slice(1) || '0'}`.replace(/\.$/, '.0');
      if (r() < 0.2) s += `e${r() < 0.5 ? '-' : '+'}${Math.floor(r() * 30)}`;
      return r() < 0.4 ? `-${s}` : s;
    };
    const str = (): string =>
      JSON.stringify(Array.from({ length: Math.floor(r() * 8) }, () => String.fromCharCode(Math.floor(r() * 0x3000))).join('') + num());
    const val = (depth: number): string => {
      const k = r();
      if (depth > 3 || k < 0.4) return num();
      if (k < 0.6) return str();
      if (k < 0.8) return `[${Array.from({ length: Math.floor(r() * 4) }, () => val(depth + 1)).join(',')}]`;
      return `{${Array.from({ length: Math.floor(r() * 4) }, (_, i) => `${JSON.stringify(`k${i}`)}:${val(depth + 1)}`).join(',')}}`;
    };
    for (let i = 0; i < 2000; i++) {
      const doc = val(0);
      const exact = parseJsonExact(doc);
      expect(asDoubles(exact), `seed=${seed} doc=${doc}`).toEqual(JSON.parse(doc));
      // Every kept text is a literal of the document whose double differs from an exact reading.
      JSON.stringify(exact, (_k, x: unknown) => {
        if (x instanceof ExactJsonNumber) expect(doc.includes(x.text)).toBe(true);
        return x instanceof ExactJsonNumber ? x.text : x;
      });
    }
  });
});
