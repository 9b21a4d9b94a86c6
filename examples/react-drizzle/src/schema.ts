/**
 * The app's data, declared once per tool that needs it:
 * - `migrations`: what SQLite runs on every device (the source of truth; they mirror the reference
 *   server's `business` tables, as a synced client's tables must);
 * - the Drizzle tables: typed queries over the same columns, checked against the migrations by
 *   `checkDrizzleSchema` (test/bindings/example-react-drizzle-schema-matches-migrations.test.ts);
 * - `syncedTables`: which tables sync, with the value families SQLite's types cannot say.
 * The UI uses projects and tasks; comments is synced because the server registers it.
 */
import { integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const projects = sqliteTable('projects', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  color: text('color'),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

export const tasks = sqliteTable('tasks', {
  id: text('id').primaryKey(),
  projectId: text('project_id')
    .notNull()
    .references(() => projects.id, { onDelete: 'cascade' }),
  title: text('title').notNull(),
  notes: text('notes'),
  done: integer('done', { mode: 'boolean' }).notNull().default(false),
  priority: integer('priority').notNull().default(0),
  position: real('position').notNull().default(0),
  dueAt: text('due_at'),
  updatedAt: text('updated_at').notNull(),
});

export const comments = sqliteTable('comments', {
  id: text('id').primaryKey(),
  taskId: text('task_id')
    .notNull()
    .references(() => tasks.id, { onDelete: 'cascade' }),
  body: text('body').notNull(),
  createdAt: text('created_at').notNull(),
});

// Plain data (checked where openDatabase takes it), so tests can import this file without the package.
export const appSchema = {
  version: 1,
  migrations: [
    `CREATE TABLE projects (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, color TEXT,
                            created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
     CREATE TABLE tasks (id TEXT PRIMARY KEY NOT NULL,
                         project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                         title TEXT NOT NULL, notes TEXT, done INTEGER NOT NULL DEFAULT 0,
                         priority INTEGER NOT NULL DEFAULT 0, position REAL NOT NULL DEFAULT 0,
                         due_at TEXT, updated_at TEXT NOT NULL);
     CREATE TABLE comments (id TEXT PRIMARY KEY NOT NULL,
                            task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
                            body TEXT NOT NULL, created_at TEXT NOT NULL);`,
  ],
} as const;

export const syncedTables = [
  { table: 'projects', syncKey: 'id', columns: { id: 'uuid', created_at: 'timestamp', updated_at: 'timestamp' } },
  {
    table: 'tasks',
    syncKey: 'id',
    columns: { id: 'uuid', project_id: 'uuid', done: 'boolean', due_at: 'timestamp', updated_at: 'timestamp' },
  },
  { table: 'comments', syncKey: 'id', columns: { id: 'uuid', task_id: 'uuid', created_at: 'timestamp' } },
] as const;
