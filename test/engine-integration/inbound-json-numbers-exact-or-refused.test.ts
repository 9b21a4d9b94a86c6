/**
 * How the client reads JSON numbers from a `go-json-numbers` server (worker/engine/codec.ts):
 * - a row in PostgreSQL's own `to_jsonb` member order is told apart from one Go re-marshaled
 *   (byte order) — checked on real PostgreSQL output for the example's typed_rows shape;
 * - each family gets the strings dialect's canonical form, exactly, or a typed refusal
 *   (`inexact_number`) where the value went through a float64 and may be rounded.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExactJsonNumber, parseJsonExact, WireValueError } from '../../protocol/index.ts';
import { goPayloadMayBeRounded, numberToCanonicalWire } from '../../worker/engine/codec.ts';
import type { ColumnModel } from '../../worker/engine/table-config.ts';
import { ADMIN_URL } from '../harness/test-database.ts';

const col = (family: ColumnModel['family']): ColumnModel => ({ name: 'c', wireName: 'c', family, uuidAsBlob: false, notNull: false });

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
});
afterAll(() => client?.end());

describe('member order', () => {
  it('PostgreSQL to_jsonb text proves exact numbers; Go byte order does not', async () => {
    const r = await client.query(`SELECT to_jsonb(t)::text AS j FROM (SELECT gen_random_uuid() AS id, 'n' AS name, NULL::text AS note,
      9007199254740993::bigint AS count_value, 1::bigint AS enabled_flag, 1.5::float8 AS rating, NULL::bytea AS data, now() AS created_at) t`);
    const text = (r.rows[0] as { j: string }).j;
    const fromPostgres = parseJsonExact<Record<string, unknown>>(text);
    expect(Object.keys(fromPostgres)).toEqual(['id', 'data', 'name', 'note', 'rating', 'created_at', 'count_value', 'enabled_flag']);
    expect(goPayloadMayBeRounded(fromPostgres)).toBe(false);
    expect(fromPostgres.count_value).toEqual(new ExactJsonNumber('9007199254740993'));
    const remarshaled = Object.fromEntries(Object.entries(fromPostgres).sort(([a], [b]) => (a < b ? -1 : 1)));
    expect(goPayloadMayBeRounded(remarshaled)).toBe(true);
    // Keys whose two orders coincide prove nothing.
    expect(goPayloadMayBeRounded({ a: 1, bb: 2 })).toBe(true);
  });
});

describe('numberToCanonicalWire', () => {
  const refused = (family: ColumnModel['family'], v: unknown, rounded: boolean): string | null => {
    try {
      numberToCanonicalWire(col(family), v, rounded);
      return null;
    } catch (e) {
      return e instanceof WireValueError ? e.category : String(e);
    }
  };

  it("gives the strings dialect's canonical forms exactly", () => {
    expect(numberToCanonicalWire(col('integer'), 42)).toBe('42');
    expect(numberToCanonicalWire(col('integer'), -0)).toBe('0');
    expect(numberToCanonicalWire(col('integer'), new ExactJsonNumber('9007199254740993'))).toBe('9007199254740993');
    expect(numberToCanonicalWire(col('integer'), 9007199254740991, true)).toBe('9007199254740991');
    expect(numberToCanonicalWire(col('float'), new ExactJsonNumber('0.30000000000000004'))).toBe('0.30000000000000004');
    expect(numberToCanonicalWire(col('float'), 1e21)).toBe('1e+21');
    expect(numberToCanonicalWire(col('decimal'), new ExactJsonNumber('12345678901234567.25'))).toBe('12345678901234567.25');
    expect(numberToCanonicalWire(col('decimal'), 12.5, true)).toBe('12.5');
    expect(numberToCanonicalWire(col('boolean'), 1)).toBe('1');
    expect(numberToCanonicalWire(col('text'), 'x')).toBe('x');
  });

  it('refuses what a float64 may have rounded, and fractions for integers', () => {
    expect(refused('integer', new ExactJsonNumber('9007199254740992'), true)).toBe('inexact_number');
    expect(refused('integer', new ExactJsonNumber('-9007199254740993'), true)).toBe('inexact_number');
    expect(refused('integer', 1.5, false)).toBe('fraction');
    expect(refused('integer', new ExactJsonNumber('1e400'), false)).toBe('inexact_number');
    expect(refused('float', new ExactJsonNumber('9007199254740993'), false)).toBe('inexact_number');
    expect(refused('decimal', new ExactJsonNumber('12345678901234567.25'), true)).toBe('inexact_number');
  });
});
