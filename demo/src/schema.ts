/**
 * The demo's local schema and its sync configuration. The tables mirror the reference server's
 * sample schema (`server/reference/schema.sql`, PostgreSQL schema `business`) using the SQLite
 * types of the v1 value families: UUID keys and references as TEXT, booleans as INTEGER 0/1,
 * priority INTEGER, position REAL, timestamps as RFC 3339 TEXT. Nullability follows the server's
 * columns, so every row the server can hold also fits here.
 */
import type { AppSchema, SyncedTable } from '../../src/index.ts';

/** Local migrations (version 1 creates the three synced tables). */
export const appSchema: AppSchema = {
  version: 1,
  migrations: [
    `CREATE TABLE projects (
       id TEXT PRIMARY KEY NOT NULL,
       name TEXT NOT NULL,
       color TEXT,
       created_at TEXT NOT NULL,
       updated_at TEXT NOT NULL
     );
     CREATE TABLE tasks (
       id TEXT PRIMARY KEY NOT NULL,
       project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
       title TEXT NOT NULL,
       notes TEXT,
       done INTEGER NOT NULL DEFAULT 0,
       priority INTEGER NOT NULL DEFAULT 0,
       position REAL NOT NULL DEFAULT 0,
       due_at TEXT,
       updated_at TEXT NOT NULL
     );
     CREATE INDEX tasks_by_project ON tasks (project_id, done, position);
     CREATE TABLE comments (
       id TEXT PRIMARY KEY NOT NULL,
       task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
       body TEXT NOT NULL,
       created_at TEXT NOT NULL
     );
     CREATE INDEX comments_by_task ON comments (task_id, created_at);`,
  ],
};

/** The PostgreSQL schema the tables live in on the server. */
export const remoteSchema = 'business';

/**
 * The synced tables, parents first. Column families the declared SQLite type cannot express are
 * named: UUIDs travel as canonical UUIDs, `done` as a boolean, the TEXT timestamps as timestamps.
 */
export const syncedTables: SyncedTable[] = [
  { table: 'projects', syncKey: 'id', columns: { id: 'uuid', created_at: 'timestamp', updated_at: 'timestamp' } },
  {
    table: 'tasks',
    syncKey: 'id',
    columns: { id: 'uuid', project_id: 'uuid', done: 'boolean', due_at: 'timestamp', updated_at: 'timestamp' },
  },
  { table: 'comments', syncKey: 'id', columns: { id: 'uuid', task_id: 'uuid', created_at: 'timestamp' } },
];
