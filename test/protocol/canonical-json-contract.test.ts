// Data-driven: the `jcs_uniform_numeric_strings_v1` contract (canonical JSON, hashes, values).
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  canonicalJson,
  sha256Hex,
  bundleHashMaterial,
  pushRequestHashMaterial,
  assertClientWireValue,
  WireValueError,
  sqliteToWire,
  wireToSqlite,
  type JsonValue,
  type ValueFamily,
} from '../../protocol/index.ts';
import { loadContract } from '../contracts.ts';

const fixture = loadContract('canonical-json/jcs-uniform-numeric-strings.json');

describe('canonical examples', () => {
  for (const [name, ex] of Object.entries<any>(fixture.canonical_examples)) {
    it(`${name}: re-canonicalizing the parsed bytes is byte-identical and hashes match`, async () => {
      const parsed = JSON.parse(ex.canonical_bytes) as JsonValue;
      const text = canonicalJson(parsed);
      expect(text).toBe(ex.canonical_bytes);
      expect(Buffer.from(text, 'utf8').toString('base64')).toBe(ex.utf8_base64);
      expect(await sha256Hex(text)).toBe(ex.sha256);
      expect(createHash('sha256').update(text).digest('hex')).toBe(ex.sha256);
    });
  }

  it('push request hash material is built from wire rows', async () => {
    const [row] = JSON.parse(fixture.canonical_examples.push_request.canonical_bytes);
    const material = pushRequestHashMaterial([
      { schema: row.schema, table: row.table, key: row.key, op: row.op, base_row_version: 0, payload: row.payload },
    ]);
    expect(material).toBe(fixture.canonical_examples.push_request.canonical_bytes);
  });

  it('bundle hash material is built from committed rows', async () => {
    const [row] = JSON.parse(fixture.canonical_examples.committed_bundle.canonical_bytes);
    const material = bundleHashMaterial([
      { schema: row.schema, table: row.table, key: row.key, op: row.op, row_version: 1, payload: row.payload },
    ]);
    expect(material).toBe(fixture.canonical_examples.committed_bundle.canonical_bytes);
    expect(await sha256Hex(material)).toBe(fixture.canonical_examples.committed_bundle.sha256);
  });
});

const familyOf: Record<string, ValueFamily> = {
  integer: 'integer',
  decimal: 'decimal',
  float: 'float',
  boolean: 'boolean',
};

describe('value cases: local SQLite value -> uploaded wire', () => {
  const cases = [...fixture.integer_cases, ...fixture.decimal_cases, ...fixture.float_cases, ...fixture.boolean_cases];
  for (const c of cases) {
    it(c.name, () => {
      const family: ValueFamily =
        c.postgres_destination === 'boolean'
          ? 'boolean'
          : c.local_sqlite.storage_class === 'text'
            ? 'decimal'
            : c.local_sqlite.storage_class === 'real'
              ? 'float'
              : 'integer';
      const local =
        c.local_sqlite.storage_class === 'integer'
          ? BigInt(c.local_sqlite.value_text)
          : c.local_sqlite.storage_class === 'real'
            ? Number(c.local_sqlite.value_text)
            : c.local_sqlite.value_text;
      expect(sqliteToWire(family, local)).toBe(c.uploaded_wire);
      assertClientWireValue(family, c.uploaded_wire);
      // What the server commits decodes back into a local value without loss.
      const stored = wireToSqlite(family, c.committed_server);
      if (family === 'integer') expect(BigInt(stored as number | bigint)).toBe(BigInt(c.committed_server));
    });
  }
});

describe('invalid cases are rejected before mutation', () => {
  for (const c of fixture.invalid_cases) {
    it(`${c.name} (${c.category})`, () => {
      const family = familyOf[c.family]!;
      let err: unknown;
      try {
        assertClientWireValue(family, c.input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WireValueError);
      const expected = c.category === 'noncanonical' && c.input === '-0' ? ['noncanonical', 'negative_zero'] : [c.category];
      expect(expected).toContain((err as WireValueError).category);
    });
  }
});
