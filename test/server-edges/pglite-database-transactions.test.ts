/**
 * Transactions on PGlite's single connection: commit, rollback, and a callback that fails or leaves
 * its transaction open never leaks that transaction to the next unit of work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase, PgliteDatabaseError } from '../../server/database/pglite.ts';
import type { SqlDatabase } from '../../server/database/types.ts';
import { PGLITE_TEMPLATE_DIR } from './fixtures/pglite-template.ts';

let db: SqlDatabase;
beforeAll(async () => {
  db = await createPgliteDatabase({ templateDir: PGLITE_TEMPLATE_DIR });
  await db.query('create table items (id int primary key, name text not null)');
});
afterAll(async () => {
  await db.close();
});

async function names(): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>('select name from items order by id');
  return rows.map((row) => row.name);
}

describe('PGlite transactions', () => {
  it('commits what a withConnection transaction wrote', async () => {
    const returned = await db.withConnection(async (session) => {
      await session.query('begin');
      await session.query('insert into items values ($1, $2)', [1, 'kept']);
      await session.query('commit');
      return 'done';
    });
    expect(returned).toBe('done');
    expect(await names()).toEqual(['kept']);
  });

  it('discards what a rolled-back transaction wrote', async () => {
    await db.withConnection(async (session) => {
      await session.query('begin');
      await session.query('insert into items values ($1, $2)', [2, 'discarded']);
      await session.query('rollback');
    });
    expect(await names()).toEqual(['kept']);
  });

  it('rolls back when the callback throws, and the next unit of work starts clean', async () => {
    await expect(
      db.withConnection(async (session) => {
        await session.query('begin');
        await session.query('insert into items values ($1, $2)', [3, 'half-done']);
        await session.query('insert into items values ($1, $2)', [1, 'duplicate key']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await names()).toEqual(['kept']);
    // Not inside an aborted transaction: a plain statement succeeds.
    await db.query('insert into items values ($1, $2)', [4, 'after failure']);
    expect(await names()).toEqual(['kept', 'after failure']);
  });

  it('rolls back and reports transaction_left_open when the callback forgets to end its transaction', async () => {
    const attempt = db.withConnection(async (session) => {
      await session.query('begin');
      await session.query('insert into items values ($1, $2)', [5, 'never committed']);
    });
    await expect(attempt).rejects.toBeInstanceOf(PgliteDatabaseError);
    await expect(attempt).rejects.toMatchObject({ code: 'transaction_left_open' });
    expect(await names()).toEqual(['kept', 'after failure']);
  });

  it('keeps transaction-local settings (set_config ..., true) inside their transaction', async () => {
    const inside = await db.withConnection(async (session) => {
      await session.query('begin');
      await session.query(`select set_config('oversync.bundle_user_id', $1, true)`, ['alice']);
      const { rows } = await session.query<{ v: string }>(`select current_setting('oversync.bundle_user_id', true) v`);
      await session.query('commit');
      return rows[0]!.v;
    });
    expect(inside).toBe('alice');
    const { rows } = await db.query<{ v: string | null }>(`select nullif(current_setting('oversync.bundle_user_id', true), '') v`);
    expect(rows[0]!.v).toBeNull();
  });
});
