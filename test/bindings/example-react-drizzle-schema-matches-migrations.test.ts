// The example app's Drizzle tables (examples/react-drizzle/src/schema.ts) describe exactly what its
// oversqlite migrations build, on real SQLite: the two stay one schema.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkDrizzleSchema } from '../../src/drizzle/index.ts';
import type { SchemaReader } from '../../src/drizzle/index.ts';
import { LocalDatabase } from '../../worker/database/local-database.ts';
import { appSchema, comments, projects, syncedTables, tasks } from '../../examples/react-drizzle/src/schema.ts';

let db: LocalDatabase;

beforeAll(async () => {
  db = await LocalDatabase.open({ name: 'example-react-drizzle', storage: 'memory', schema: appSchema });
});
afterAll(() => db?.close());

it('the Drizzle tables match the migrations, and every synced table has one', async () => {
  const reader: SchemaReader = {
    async query<T>(sql: string, params?: Parameters<SchemaReader['query']>[1]): Promise<T[]> {
      const outcome = db.query(sql, params);
      if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
      return outcome.value.rows as T[];
    },
  };
  expect(await checkDrizzleSchema(reader, [projects, tasks, comments])).toEqual([]);
  expect(syncedTables.map((t) => t.table)).toEqual(['projects', 'tasks', 'comments']);
});
