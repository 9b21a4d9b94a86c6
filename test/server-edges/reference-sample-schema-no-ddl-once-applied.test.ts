/**
 * The reference server's sample schema is applied once per version of schema.sql: a server that
 * starts on a database where it is already applied runs no DDL. Re-running it used to take SHARE
 * locks on the tables while another server process's sync bootstrap held ACCESS EXCLUSIVE ones
 * (three processes starting together: `deadlock detected`, one of them failed to start). Here a
 * session holds ACCESS EXCLUSIVE on a table, as a bootstrap does, and the apply must not wait for it.
 */
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { applySampleSchema } from '../../server/reference/sample-schema.ts';
import { createTestDatabase, TEST_DB_KIND } from '../harness/test-database.ts';
import type { TestDatabase } from '../harness/test-database.ts';

let testDb: TestDatabase | undefined;
afterAll(async () => {
  await testDb?.drop();
});

const marker = async (db: TestDatabase): Promise<string | null> =>
  (
    (await db.database.query("SELECT obj_description(oid, 'pg_namespace') AS m FROM pg_namespace WHERE nspname = 'business'")).rows[0] as {
      m: string | null;
    }
  ).m;

it.skipIf(TEST_DB_KIND !== 'postgres')(
  'runs no DDL once applied (does not wait for a lock a bootstrap holds), and re-applies when schema.sql changed',
  async () => {
    testDb = await createTestDatabase('sample_schema');
    await applySampleSchema(testDb.database);
    const applied = await marker(testDb);
    expect(applied).toMatch(/^oversqlite reference sample schema [0-9a-f]{16}$/);

    const holder = new pg.Client({ connectionString: testDb.connectionString! });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE business.tasks IN ACCESS EXCLUSIVE MODE');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        applySampleSchema(testDb.database).then(() => 'applied'),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve('blocked by the lock'), 10_000);
        }),
      ]);
      clearTimeout(timer);
      expect(outcome).toBe('applied');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }

    // A database applied by another version of schema.sql gets the DDL again (idempotent) and the new marker.
    await testDb.database.query("COMMENT ON SCHEMA business IS 'oversqlite reference sample schema 0000000000000000'");
    await applySampleSchema(testDb.database);
    expect(await marker(testDb)).toBe(applied);
  },
);
