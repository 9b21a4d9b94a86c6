// The server's fast bundle hash (native JSON.stringify over canonically ordered objects, with a
// fallback for integer-like member names) produces exactly the bytes of the protocol module's
// canonical bundle material, over randomized rows (seed printed) with awkward strings and nesting.
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { utf8ByteLength } from '../../protocol/canonical-json.ts';
import { bundleHashMaterial } from '../../protocol/hashes.ts';
import type { BundleRow, JsonValue } from '../../protocol/wire.ts';
import { hashBundleRows } from '../../server/runtime/bundle-hash.ts';
import { seededRandom } from '../harness/seeded-random.ts';

const STRINGS = [
  '',
  '0',
  '10',
  '9',
  'plain',
  '<>&',
  '\u2028\u2029',
  'emoji 😀',
  'quote " back \\ slash',
  'tab\tnew\nline',
  '\u0001ctrl',
  'é',
  '\uffff',
  'zz',
  'Zz',
];

it('matches bundleHashMaterial on randomized bundles', () => {
  const seed = Number(process.env.OVERSQLITE_SEED ?? Date.now() % 1_000_000);
  console.log(`[bundle-hash-equivalence] seed=${seed}`);
  const r = seededRandom(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const value = (depth: number): JsonValue => {
    const k = r();
    if (k < 0.3) return pick(STRINGS) + Math.floor(r() * 1000);
    if (k < 0.4) return null;
    if (k < 0.5) return r() < 0.5;
    if (k < 0.6) return Math.round((r() - 0.5) * 1e6) / 100;
    if (depth < 2 && k < 0.8) return Array.from({ length: Math.floor(r() * 3) }, () => value(depth + 1));
    if (depth < 2) return Object.fromEntries(Array.from({ length: Math.floor(r() * 3) }, () => [pick(STRINGS), value(depth + 1)]));
    return pick(STRINGS);
  };
  for (let round = 0; round < 30; round++) {
    const columns = Array.from({ length: 1 + Math.floor(r() * 6) }, (_, i) => `${pick(['a', 'B', 'c_', 'é', 'z'])}${i}`);
    const rows: BundleRow[] = Array.from({ length: Math.floor(r() * 20) }, () => {
      const op = pick(['INSERT', 'UPDATE', 'DELETE'] as const);
      const row: BundleRow = {
        schema: pick(['business', 'public']),
        table: pick(['users', 'tags<>']),
        key: { id: pick(STRINGS) },
        op,
        row_version: 1 + Math.floor(r() * 1e6),
      };
      if (op !== 'DELETE') row.payload = Object.fromEntries(columns.map((c) => [c, value(0)]));
      return row;
    });
    const material = bundleHashMaterial(rows);
    expect(hashBundleRows(rows)).toEqual({
      bundleHash: createHash('sha256').update(material).digest('hex'),
      byteCount: utf8ByteLength(material),
    });
  }
});

it('fastCanonicalJson equals canonicalJson, including integer-like member names', async () => {
  const { fastCanonicalJson } = await import('../../server/runtime/bundle-hash.ts');
  const { canonicalJson } = await import('../../protocol/canonical-json.ts');
  for (const v of [
    { b: 1, a: [{ z: null, y: 'x' }] },
    { '10': 1, '9': 2, a: 3 },
    ['<>&', { é: true, e: false }],
    'plain',
    null,
    { nested: { '0': { b: 2, a: 1 } } },
  ] as JsonValue[]) {
    expect(fastCanonicalJson(v)).toBe(canonicalJson(v));
  }
});
