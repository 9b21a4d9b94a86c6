/**
 * A fresh, isolated database per test file.
 *
 * - default: a new PostgreSQL database `oversqlite_<purpose>_<random>` on `OVERSQLITE_TEST_PG_URL`
 *   (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped by `drop()`;
 * - `OVERSQLITE_TEST_DB=pglite`: a new in-memory PGlite (`server/database/pglite.ts`).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresDatabase } from '../../server/database/postgres.ts';
import type { SqlDatabase } from '../../server/database/types.ts';

/** Which engine tests run on. */
export const TEST_DB_KIND: 'postgres' | 'pglite' = process.env.OVERSQLITE_TEST_DB === 'pglite' ? 'pglite' : 'postgres';

/** Admin connection of the PostgreSQL where tests create (and drop) their databases. */
export const ADMIN_URL = process.env.OVERSQLITE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database created for one test file. */
export interface TestDatabase {
  kind: 'postgres' | 'pglite';
  /** Database name (PostgreSQL) or `pglite`. */
  name: string;
  /** Connection string (PostgreSQL only; null on PGlite). */
  connectionString: string | null;
  /** The runtime's view of it (a pg pool or the PGlite instance). */
  database: SqlDatabase;
  /** Opens another, independent `SqlDatabase` on the same data (PostgreSQL: a new pool; PGlite: the same instance). */
  openAnother(): SqlDatabase;
  /** Runs an SQL script (several statements allowed, no parameters). */
  exec(sql: string): Promise<void>;
  /** Closes every connection and drops the database. */
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates the database; `purpose` becomes part of the name (lowercase letters, digits, underscores). */
export async function createTestDatabase(purpose: string): Promise<TestDatabase> {
  if (TEST_DB_KIND === 'pglite') {
    const { createPgliteDatabase } = await import('../../server/database/pglite.ts');
    const database = await createPgliteDatabase();
    return {
      kind: 'pglite',
      name: 'pglite',
      connectionString: null,
      database,
      openAnother: () => database,
      exec: async (sql) => void (await database.query(sql)),
      drop: () => database.close(),
    };
  }
  const name = `oversqlite_${purpose
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const connectionString = withDatabase(ADMIN_URL, name);
  const opened: SqlDatabase[] = [];
  const open = () => {
    const db = createPostgresDatabase({ connectionString, maxConnections: 6 });
    opened.push(db);
    return db;
  };
  const database = open();
  return {
    kind: 'postgres',
    name,
    connectionString,
    database,
    openAnother: open,
    exec: async (sql) => void (await database.query(sql)),
    async drop() {
      for (const db of opened) await db.close().catch(() => {});
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
