/**
 * The sample business schema sync tests run against: parent/child/grandchild with cascading,
 * deferrable composite FKs, uuid and text keys, and every value family the wire carries
 * (int8, int4, float8, numeric, boolean, bytea, timestamptz, jsonb).
 *
 * Clients mirror it locally: every table has the same columns minus `_sync_scope_id`.
 */
import type { PushRow } from '../../protocol/wire.ts';
import type { RegisteredTable } from '../../server/runtime/options.ts';

/** PostgreSQL DDL of the sample schema (schema `business`). */
export const SAMPLE_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS business;
CREATE TABLE business.users (
  _sync_scope_id text NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  email text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (_sync_scope_id, id)
);
CREATE TABLE business.projects (
  _sync_scope_id text NOT NULL,
  id uuid NOT NULL,
  owner_id uuid NOT NULL,
  title text NOT NULL,
  budget numeric(12,2),
  archived boolean NOT NULL DEFAULT false,
  PRIMARY KEY (_sync_scope_id, id),
  FOREIGN KEY (_sync_scope_id, owner_id) REFERENCES business.users (_sync_scope_id, id)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE business.tasks (
  _sync_scope_id text NOT NULL,
  id uuid NOT NULL,
  project_id uuid NOT NULL,
  title text NOT NULL,
  done boolean NOT NULL DEFAULT false,
  priority bigint,
  estimate_hours double precision,
  attachment bytea,
  due_at timestamptz,
  PRIMARY KEY (_sync_scope_id, id),
  FOREIGN KEY (_sync_scope_id, project_id) REFERENCES business.projects (_sync_scope_id, id)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE business.tags (
  _sync_scope_id text NOT NULL,
  name text NOT NULL,
  color text,
  weight integer,
  meta jsonb,
  PRIMARY KEY (_sync_scope_id, name)
);
`;

/** The registered tables of the sample schema. */
export const SAMPLE_TABLES: RegisteredTable[] = [
  { schema: 'business', table: 'users', syncKey: 'id' },
  { schema: 'business', table: 'projects', syncKey: 'id' },
  { schema: 'business', table: 'tasks', syncKey: 'id' },
  { schema: 'business', table: 'tags', syncKey: 'name' },
];

/** A push row inserting the `business.users` row `id` named `name` (no email, a fixed created_at). */
export function sampleUserInsert(id: string, name: string): PushRow {
  return {
    schema: 'business',
    table: 'users',
    key: { id },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id, name, email: null, created_at: '2026-03-24T18:42:11Z' },
  };
}
