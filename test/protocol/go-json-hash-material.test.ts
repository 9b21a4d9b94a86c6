// Data-driven: bundle hash material of the go-json-numbers dialect (go-oversync 1f1118f) against
// vectors that Go's encoding/json produced (see go-json-hash-vectors-generator/README.md).
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { goCanonicalJson, goJsonBundleHash, goJsonBundleHashMaterial } from '../../protocol/go-json-hash.ts';
import type { BundleRow } from '../../protocol/wire.ts';

interface Vector {
  name: string;
  rows_json: string;
  material: string;
  sha256: string;
}
const doc = JSON.parse(readFileSync(new URL('./go-json-hash-vectors.json', import.meta.url), 'utf8')) as {
  provenance: string;
  cases: Vector[];
};

describe('go-json bundle hash material matches Go', () => {
  it('has provenance and cases', () => {
    expect(doc.provenance).toMatch(/go-oversync/);
    expect(doc.cases.length).toBeGreaterThanOrEqual(14);
  });
  for (const v of doc.cases) {
    it(v.name, async () => {
      const rows = JSON.parse(v.rows_json) as BundleRow[];
      const material = goJsonBundleHashMaterial(rows);
      expect(material).toBe(v.material);
      expect(createHash('sha256').update(material, 'utf8').digest('hex')).toBe(v.sha256);
      expect(await goJsonBundleHash(rows)).toBe(v.sha256);
    });
  }
});

describe('go canonical JSON of single values', () => {
  it('keeps the sign of -0 and switches to exponent form at Go thresholds', () => {
    expect(goCanonicalJson(-0)).toBe('-0');
    expect(goCanonicalJson(1e21)).toBe('1e+21');
    expect(goCanonicalJson(999999999999999900000)).toBe('999999999999999900000');
    expect(goCanonicalJson(0.000001)).toBe('0.000001');
    expect(goCanonicalJson(9.99e-7)).toBe('9.99e-7');
  });
  it('refuses values Go cannot marshal', () => {
    expect(() => goCanonicalJson(Number.NaN)).toThrow(/non-finite/);
    expect(() => goCanonicalJson(Number.POSITIVE_INFINITY)).toThrow(/non-finite/);
  });
  it('sorts member names by UTF-8 bytes, not UTF-16 units', () => {
    expect(goCanonicalJson({ '\uff21': 1, '\u{1f600}': 2, a: 3 })).toBe('{"a":3,"\uff21":1,"\u{1f600}":2}');
  });
});
