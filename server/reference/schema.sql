-- Sample business schema of the oversqlite reference server (used by the demo app).
--
-- Every synced table follows the oversync envelope (protocol notes §5.1):
--   * `_sync_scope_id text not null` holds the owning user id; the sync triggers fill it in.
--   * the sync key is `id uuid`, unique together with the scope: `unique (_sync_scope_id, id)`,
--     and every other unique constraint would also have to start with `_sync_scope_id`.
--   * foreign keys between synced tables are two-column `(_sync_scope_id, fk) → (_sync_scope_id, id)`
--     and DEFERRABLE INITIALLY DEFERRED, so a bundle may insert children before parents.
--
-- Idempotent: the reference server runs it at every start (PGlite data survives restarts).

create schema if not exists business;

create table if not exists business.projects (
  _sync_scope_id text not null,
  id uuid not null,
  name text not null,
  color text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint projects_scope_id_key unique (_sync_scope_id, id)
);

create table if not exists business.tasks (
  _sync_scope_id text not null,
  id uuid not null,
  project_id uuid not null,
  title text not null,
  notes text,
  done boolean not null default false,
  priority integer not null default 0,
  position double precision not null default 0,
  due_at timestamptz,
  updated_at timestamptz not null default now(),
  constraint tasks_scope_id_key unique (_sync_scope_id, id),
  constraint tasks_project_fk foreign key (_sync_scope_id, project_id)
    references business.projects (_sync_scope_id, id)
    on delete cascade deferrable initially deferred
);

create index if not exists tasks_project_idx on business.tasks (_sync_scope_id, project_id);

create table if not exists business.comments (
  _sync_scope_id text not null,
  id uuid not null,
  task_id uuid not null,
  body text not null,
  created_at timestamptz not null default now(),
  constraint comments_scope_id_key unique (_sync_scope_id, id),
  constraint comments_task_fk foreign key (_sync_scope_id, task_id)
    references business.tasks (_sync_scope_id, id)
    on delete cascade deferrable initially deferred
);

create index if not exists comments_task_idx on business.comments (_sync_scope_id, task_id);
