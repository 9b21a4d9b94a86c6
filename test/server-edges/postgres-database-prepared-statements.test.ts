/**
 * `createPostgresDatabase` runs parameterized statements of a session as named prepared statements
 * kept per connection: PostgreSQL lists them in `pg_prepared_statements`, results are the same as
 * unnamed statements, at most 100 stay on one connection, a statement over a table that was altered
 * or dropped and re-created still runs (PostgreSQL re-plans it), and `preparedStatements: false` or
 * a host's own pool prepares nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createPostgresDatabase } from '../../server/database/postgres.ts';
import type { SqlDatabase, SqlSession } from '../../server/database/types.ts';
import { TEST_DB_KIND, createTestDatabase } from '../harness/test-database.ts';
import type { TestDatabase } from '../harness/test-database.ts';

let testDb: TestDatabase;
const opened: SqlDatabase[] = [];

function open(options: { preparedStatements?: boolean } = {}): SqlDatabase {
  const db = createPostgresDatabase({ connectionString: testDb.connectionString!, maxConnections: 1, ...options });
  opened.push(db);
  return db;
}

async function preparedNames(s: SqlSession): Promise<string[]> {
  const r = await s.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'oversync\\_%' ORDER BY name`);
  return r.rows.map((x) => x.name);
}

beforeAll(async () => {
  if (TEST_DB_KIND !== 'postgres') return;
  testDb = await createTestDatabase('prepared_statements');
  await testDb.exec(
    `CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5) g`,
  );
});

afterAll(async () => {
  for (const db of opened) await db.close().catch(() => {});
  await testDb?.drop();
});

describe.skipIf(TEST_DB_KIND !== 'postgres')('PostgreSQL sessions prepare their parameterized statements', () => {
  it('prepares a parameterized statement once per connection and answers as before', async () => {
    const db = open();
    const first = await db.withConnection(async (s) => {
      const r = await s.query<{ label: string }>('SELECT label FROM items WHERE id = $1', [2]);
      return { rows: r.rows, names: await preparedNames(s) };
    });
    expect(first.rows).toEqual([{ label: 'item 2' }]);
    expect(first.names).toHaveLength(1);
    // The next checkout gets the same (only) connection: the statement is still prepared there.
    const again = await db.withConnection(async (s) => {
      const r = await s.query<{ label: string }>('SELECT label FROM items WHERE id = $1', [3]);
      return { rows: r.rows, names: await preparedNames(s) };
    });
    expect(again.rows).toEqual([{ label: 'item 3' }]);
    expect(again.names).toEqual(first.names);
  });

  it('keeps at most 100 prepared statements on a connection; the rest run unnamed with the same results', async () => {
    const db = open();
    const { labels, names } = await db.withConnection(async (s) => {
      const labels: string[] = [];
      for (let i = 0; i < 150; i++) {
        const r = await s.query<{ label: string }>(`SELECT label || '/${i}' AS label FROM items WHERE id = $1`, [1 + (i % 5)]);
        labels.push(r.rows[0]!.label);
      }
      return { labels, names: await preparedNames(s) };
    });
    expect(labels[0]).toBe('item 1/0');
    expect(labels[149]).toBe('item 5/149');
    expect(names).toHaveLength(100);
  });

  it('still runs a prepared statement after its table was altered, and after it was dropped and re-created', async () => {
    const db = open();
    await db.withConnection(async (s) => {
      await s.query('CREATE TABLE churn (id int PRIMARY KEY, v text)');
      await s.query('INSERT INTO churn (id, v) VALUES ($1, $2)', [1, 'a']);
      expect((await s.query('SELECT id, v FROM churn WHERE id = $1', [1])).rows).toEqual([{ id: 1, v: 'a' }]);
      await s.query('ALTER TABLE churn ADD COLUMN extra int');
      expect((await s.query('SELECT id, v FROM churn WHERE id = $1', [1])).rows).toEqual([{ id: 1, v: 'a' }]);
      await s.query('DROP TABLE churn');
      await s.query('CREATE TABLE churn (id int PRIMARY KEY, v text)');
      await s.query('INSERT INTO churn (id, v) VALUES ($1, $2)', [1, 'b']);
      expect((await s.query('SELECT id, v FROM churn WHERE id = $1', [1])).rows).toEqual([{ id: 1, v: 'b' }]);
      await s.query('DROP TABLE churn');
    });
  });

  it('a statement that fails to parse leaves the connection usable and is prepared once it parses', async () => {
    const db = open();
    await db.withConnection(async (s) => {
      await expect(s.query('SELECT label FROM no_such_table WHERE id = $1', [1])).rejects.toMatchObject({ code: '42P01' });
      await s.query('CREATE TABLE no_such_table (id int, label text)');
      await s.query('INSERT INTO no_such_table VALUES ($1, $2)', [1, 'now here']);
      expect((await s.query('SELECT label FROM no_such_table WHERE id = $1', [1])).rows).toEqual([{ label: 'now here' }]);
      await s.query('DROP TABLE no_such_table');
    });
  });

  it('prepares nothing with preparedStatements: false or on a host pool', async () => {
    const off = open({ preparedStatements: false });
    expect(
      await off.withConnection(async (s) => {
        await s.query('SELECT label FROM items WHERE id = $1', [4]);
        return preparedNames(s);
      }),
    ).toEqual([]);

    const pool = new pg.Pool({ connectionString: testDb.connectionString!, max: 1 });
    const hosted = createPostgresDatabase({ pool });
    try {
      expect(
        await hosted.withConnection(async (s) => {
          await s.query('SELECT label FROM items WHERE id = $1', [4]);
          return preparedNames(s);
        }),
      ).toEqual([]);
    } finally {
      await hosted.close();
      await pool.end();
    }
  });
});
