/**
 * Our app's local schema for go-oversync's example server (`examples/nethttp_server`, schema DDL
 * in `server/handlers.go`): the same 8 tables without the server's `_sync_scope_id`; BLOB UUID keys
 * for users, posts, files and file_reviews, TEXT UUID keys for the others. Shared by the Node lane
 * and the browser spec.
 */
import type { SyncedTable } from '../../../worker/engine/types.ts';

/** The local SQLite schema our app uses against the example's 8 tables (no `_sync_scope_id`). */
export const LOCAL_SCHEMA = `
CREATE TABLE users (
  id BLOB PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  created_at TEXT,
  updated_at TEXT
);
CREATE TABLE posts (
  id BLOB PRIMARY KEY NOT NULL,
  title TEXT NOT NULL,
  content TEXT NOT NULL,
  author_id BLOB REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  created_at TEXT,
  updated_at TEXT
);
CREATE TABLE categories (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  parent_id TEXT REFERENCES categories(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE teams (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  captain_member_id TEXT REFERENCES team_members(id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE team_members (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE files (
  id BLOB PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE file_reviews (
  id BLOB PRIMARY KEY NOT NULL,
  review TEXT NOT NULL,
  file_id BLOB NOT NULL REFERENCES files(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE typed_rows (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  note TEXT,
  count_value INTEGER,
  enabled_flag INTEGER NOT NULL,
  rating REAL,
  data BLOB,
  created_at TEXT
);`;

export const LOCAL_TABLES: SyncedTable[] = [
  { table: 'users', syncKey: 'id', columns: { created_at: 'timestamp', updated_at: 'timestamp' } },
  { table: 'posts', syncKey: 'id', columns: { created_at: 'timestamp', updated_at: 'timestamp' } },
  { table: 'categories', syncKey: 'id' },
  { table: 'teams', syncKey: 'id' },
  { table: 'team_members', syncKey: 'id' },
  { table: 'files', syncKey: 'id' },
  { table: 'file_reviews', syncKey: 'id' },
  { table: 'typed_rows', syncKey: 'id', columns: { created_at: 'timestamp' } },
];
