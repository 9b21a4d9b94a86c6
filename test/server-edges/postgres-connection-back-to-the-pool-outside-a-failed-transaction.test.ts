/**
 * A `withConnection` callback of `createPostgresDatabase` that fails while its transaction is open
 * (a statement of its BEGIN script failed, or it threw between BEGIN and COMMIT) does not hand the
 * pool a connection still inside that transaction: the next statement on the same (only) pooled
 * connection runs, and no backend is left idle in a transaction. PGlite's adapter does the same
 * (pglite-database-transactions.test.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../server/database/postgres.ts';
import type { SqlDatabase } from '../../server/database/types.ts';
import { TEST_DB_KIND, createTestDatabase } from '../harness/test-database.ts';
import type { TestDatabase } from '../harness/test-database.ts';

let testDb: TestDatabase;
let db: SqlDatabase;

beforeAll(async () => {
  if (TEST_DB_KIND !== 'postgres') return;
  testDb = await createTestDatabase('pool_outside_failed_tx');
  db = createPostgresDatabase({ connectionString: testDb.connectionString!, maxConnections: 1 });
});

afterAll(async () => {
  await db?.close().catch(() => {});
  await testDb?.drop();
});

async function idleInTransaction(): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
  );
  return r.rows[0]!.n;
}

it.skipIf(TEST_DB_KIND !== 'postgres')('rolls back a transaction its BEGIN script left aborted', async () => {
  const failed = db.withConnection((s) => s.query('BEGIN; SELECT 1 / 0'));
  await expect(failed).rejects.toMatchObject({ code: '22012' });
  expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  expect(await idleInTransaction()).toBe(0);
});

it.skipIf(TEST_DB_KIND !== 'postgres')('rolls back a transaction left open by a callback that threw', async () => {
  const failed = db.withConnection(async (s) => {
    await s.query('BEGIN');
    await s.query('CREATE TABLE left_behind (id int)');
    throw new Error('callback failed mid-transaction');
  });
  await expect(failed).rejects.toThrow('callback failed mid-transaction');
  expect(await idleInTransaction()).toBe(0);
  // Rolled back, not committed by a later statement on the same connection.
  expect((await db.query<{ t: string | null }>(`SELECT to_regclass('left_behind')::text AS t`)).rows).toEqual([{ t: null }]);
});
