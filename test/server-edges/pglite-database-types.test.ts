/**
 * PGlite returns the same JavaScript types as `pg` does by default, and accepts parameters the way
 * `pg` sends them, so the runtime sees one set of types on both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../server/database/pglite.ts';
import type { SqlDatabase } from '../../server/database/types.ts';
import { PGLITE_TEMPLATE_DIR } from './fixtures/pglite-template.ts';

let db: SqlDatabase;
beforeAll(async () => {
  db = await createPgliteDatabase({ templateDir: PGLITE_TEMPLATE_DIR });
});
afterAll(async () => {
  await db.close();
});

describe('PGlite result types match pg', () => {
  it('returns int8 and numeric as exact strings, int4/float as numbers', async () => {
    const { rows } = await db.query<Record<string, unknown>>(
      `select 1::int8 small, 9223372036854775807::int8 big, 12.50::numeric dec, 7::int4 i4, 3::int2 i2, 1.5::float8 f8,
              array[1, 9007199254740993]::int8[] int8s, array[1.5, 2]::numeric[] decs`,
    );
    expect(rows[0]).toEqual({
      small: '1',
      big: '9223372036854775807',
      dec: '12.50',
      i4: 7,
      i2: 3,
      f8: 1.5,
      int8s: ['1', '9007199254740993'],
      decs: ['1.5', '2'],
    });
  });

  it('returns bytea as a Buffer, json and jsonb parsed, booleans, uuids and text as-is', async () => {
    const { rows } = await db.query<Record<string, unknown>>(
      `select '\\x00ff10'::bytea b, '{"a":[1,"x"]}'::json j, '{"b":null}'::jsonb jb, true t, false f,
              '6f1c6a43-8c3b-4fd3-9a55-111111111111'::uuid u, 'hé'::text s, null::text n`,
    );
    const row = rows[0]!;
    expect(Buffer.isBuffer(row.b)).toBe(true);
    expect([...(row.b as Buffer)]).toEqual([0, 255, 16]);
    expect(row).toMatchObject({
      j: { a: [1, 'x'] },
      jb: { b: null },
      t: true,
      f: false,
      u: '6f1c6a43-8c3b-4fd3-9a55-111111111111',
      s: 'hé',
      n: null,
    });
  });

  it('returns timestamptz as a Date and date at local midnight, as pg does', async () => {
    const { rows } = await db.query<{ ts: Date; d: Date }>(`select '2026-01-02T03:04:05.678Z'::timestamptz ts, '2026-03-04'::date d`);
    expect(rows[0]!.ts).toBeInstanceOf(Date);
    expect(rows[0]!.ts.toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(rows[0]!.d.getTime()).toBe(new Date(2026, 2, 4).getTime());
  });

  it('accepts parameters as pg sends them: int8 strings, Buffers, objects for jsonb, undefined as NULL', async () => {
    const { rows } = await db.query<Record<string, unknown>>(
      `select $1::int8 + 1 as next, $2::bytea as bytes, $3::jsonb as doc, $4::text as missing, $5::json as raw, $6::text[] as list`,
      ['9007199254740993', Buffer.from([1, 2, 3]), { k: [1, 2] }, undefined, '{"pre":"serialized"}', ['a', 'b']],
    );
    expect(rows[0]!.next).toBe('9007199254740994');
    expect([...(rows[0]!.bytes as Buffer)]).toEqual([1, 2, 3]);
    expect(rows[0]!.doc).toEqual({ k: [1, 2] });
    expect(rows[0]!.missing).toBeNull();
    expect(rows[0]!.raw).toEqual({ pre: 'serialized' });
    expect(rows[0]!.list).toEqual(['a', 'b']);
  });

  it('reports rowCount like pg: rows returned for SELECT, rows changed for DML', async () => {
    await db.query('create table rc (id int primary key, v text)');
    expect((await db.query('insert into rc values (1, $1), (2, $1), (3, $1)', ['x'])).rowCount).toBe(3);
    expect((await db.query('update rc set v = $1 where id > 1', ['y'])).rowCount).toBe(2);
    expect((await db.query('select * from rc')).rowCount).toBe(3);
    expect((await db.query('delete from rc where id = $1 returning id', [1])).rows).toEqual([{ id: 1 }]);
  });

  it('runs a parameterless multi-statement script and returns the last statement result', async () => {
    const result = await db.query<{ n: string }>(
      'create table script_t (id int); insert into script_t values (1), (2); select count(*) n from script_t',
    );
    expect(result.rows).toEqual([{ n: '2' }]);
  });

  it('raises PostgreSQL errors with their SQLSTATE code and constraint', async () => {
    await db.query('create table uniq (id int primary key)');
    await db.query('insert into uniq values (1)');
    await expect(db.query('insert into uniq values ($1)', [1])).rejects.toMatchObject({ code: '23505', constraint: 'uniq_pkey' });
  });
});
