-- go-oversync's example business schema (examples/nethttp_server/server/handlers.go at commit
-- 1f1118f: table and column names, types, keys and foreign keys), so that go-oversync's own Go
-- client syncs against our server exactly as it does against its example server. Eight tables:
-- users <- posts; categories (self-reference, cascade); teams <-> team_members (a cycle);
-- files <- file_reviews (BYTEA data, cascade); typed_rows (every value family).
create schema if not exists business;

create table business.users (
  _sync_scope_id text not null,
  id uuid not null,
  name text not null,
  email text not null,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  primary key (_sync_scope_id, id)
);

create table business.posts (
  _sync_scope_id text not null,
  id uuid not null,
  title text not null,
  content text not null,
  author_id uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  primary key (_sync_scope_id, id),
  constraint posts_author_id_fkey foreign key (_sync_scope_id, author_id)
    references business.users (_sync_scope_id, id) deferrable initially deferred
);

create table business.categories (
  _sync_scope_id text not null,
  id uuid not null,
  name text not null,
  parent_id uuid,
  primary key (_sync_scope_id, id),
  constraint categories_parent_id_fkey foreign key (_sync_scope_id, parent_id)
    references business.categories (_sync_scope_id, id) on delete cascade deferrable initially deferred
);

create table business.teams (
  _sync_scope_id text not null,
  id uuid not null,
  name text not null,
  captain_member_id uuid,
  primary key (_sync_scope_id, id)
);

create table business.team_members (
  _sync_scope_id text not null,
  id uuid not null,
  name text not null,
  team_id uuid not null,
  primary key (_sync_scope_id, id),
  constraint team_members_team_id_fkey foreign key (_sync_scope_id, team_id)
    references business.teams (_sync_scope_id, id) on delete cascade deferrable initially deferred
);

alter table business.teams add constraint teams_captain_member_id_fkey
  foreign key (_sync_scope_id, captain_member_id)
  references business.team_members (_sync_scope_id, id) deferrable initially deferred;

create table business.files (
  _sync_scope_id text not null,
  id uuid not null,
  name text not null,
  data bytea not null,
  primary key (_sync_scope_id, id)
);

create table business.file_reviews (
  _sync_scope_id text not null,
  id uuid not null,
  review text not null,
  file_id uuid not null,
  primary key (_sync_scope_id, id),
  constraint file_reviews_file_id_fkey foreign key (_sync_scope_id, file_id)
    references business.files (_sync_scope_id, id) on delete cascade deferrable initially deferred
);

create table business.typed_rows (
  _sync_scope_id text not null,
  id uuid not null,
  name text not null,
  note text null,
  count_value bigint null,
  enabled_flag bigint not null,
  rating double precision null,
  data bytea null,
  created_at timestamptz null,
  primary key (_sync_scope_id, id)
);
