/** Opens an in-memory LocalDatabase for tests, with flushes run by the test when it wants. */
import { LocalDatabase } from '../../worker/database/local-database.ts';
import type { AppSchema } from '../../worker/database/types.ts';

/** A small two-table schema with a foreign key, a WITHOUT ROWID table and a trigger. */
export const testSchema: AppSchema = {
  version: 2,
  migrations: [
    `CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE) WITHOUT ROWID;
     CREATE TABLE tasks (id INTEGER PRIMARY KEY, project_id TEXT REFERENCES projects(id), title TEXT NOT NULL, n INTEGER);`,
    `CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);
     CREATE TRIGGER tasks_audit AFTER INSERT ON tasks BEGIN INSERT INTO audit (what) VALUES (new.title); END;`,
  ],
};

/** Opens a fresh in-memory database with {@link testSchema}. */
export function openMemory(schema: AppSchema = testSchema): Promise<LocalDatabase> {
  return LocalDatabase.open({ name: 'test', schema, storage: 'memory' });
}
