/**
 * A schema with every foreign-key shape the engine must settle across devices, on PostgreSQL and
 * mirrored in SQLite (same actions, deferred):
 * - `folders.parent_id` -> folders: self reference, ON DELETE CASCADE (nullable)
 * - `notes.folder_id` -> folders: ON DELETE CASCADE
 * - `pins.folder_id` -> folders: NO ACTION (a parent with pins cannot be deleted)
 * - `links.folder_id` -> folders: ON DELETE SET NULL (nullable)
 * - `teams.captain_id` -> people (SET NULL) and `people.team_id` -> teams (CASCADE): a cycle
 */
import type { SyncedTable } from '../../../worker/engine/index.ts';
import type { RegisteredTable } from '../../../server/runtime/options.ts';
import type { Database } from '@sqlite.org/sqlite-wasm';
import type { World, WorldOptions } from './devices.ts';

const fk = (col: string, parent: string, action: string): string =>
  `FOREIGN KEY (_sync_scope_id, ${col}) REFERENCES fkm.${parent} (_sync_scope_id, id) ${action} DEFERRABLE INITIALLY DEFERRED`;

export const FK_SERVER_SQL = `
CREATE SCHEMA IF NOT EXISTS fkm;
CREATE TABLE fkm.folders (_sync_scope_id text NOT NULL, id text NOT NULL, parent_id text, name text NOT NULL,
  PRIMARY KEY (_sync_scope_id, id), ${fk('parent_id', 'folders', 'ON DELETE CASCADE')});
CREATE TABLE fkm.notes (_sync_scope_id text NOT NULL, id text NOT NULL, folder_id text NOT NULL, body text,
  PRIMARY KEY (_sync_scope_id, id), ${fk('folder_id', 'folders', 'ON DELETE CASCADE')});
CREATE TABLE fkm.pins (_sync_scope_id text NOT NULL, id text NOT NULL, folder_id text NOT NULL, label text,
  PRIMARY KEY (_sync_scope_id, id), ${fk('folder_id', 'folders', 'ON DELETE NO ACTION')});
CREATE TABLE fkm.links (_sync_scope_id text NOT NULL, id text NOT NULL, folder_id text, url text,
  PRIMARY KEY (_sync_scope_id, id), ${fk('folder_id', 'folders', 'ON DELETE SET NULL (folder_id)')});
CREATE TABLE fkm.teams (_sync_scope_id text NOT NULL, id text NOT NULL, captain_id text, name text,
  PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE fkm.people (_sync_scope_id text NOT NULL, id text NOT NULL, team_id text, name text,
  PRIMARY KEY (_sync_scope_id, id), ${fk('team_id', 'teams', 'ON DELETE CASCADE')});
ALTER TABLE fkm.teams ADD ${fk('captain_id', 'people', 'ON DELETE SET NULL (captain_id)')};
`;

const lfk = (parent: string, action: string): string => `REFERENCES ${parent}(id) ${action} DEFERRABLE INITIALLY DEFERRED`;

export const FK_LOCAL_SQL = `
CREATE TABLE folders (id TEXT PRIMARY KEY NOT NULL, parent_id TEXT ${lfk('folders', 'ON DELETE CASCADE')}, name TEXT NOT NULL);
CREATE TABLE notes (id TEXT PRIMARY KEY NOT NULL, folder_id TEXT NOT NULL ${lfk('folders', 'ON DELETE CASCADE')}, body TEXT);
CREATE TABLE pins (id TEXT PRIMARY KEY NOT NULL, folder_id TEXT NOT NULL ${lfk('folders', 'ON DELETE NO ACTION')}, label TEXT);
CREATE TABLE links (id TEXT PRIMARY KEY NOT NULL, folder_id TEXT ${lfk('folders', 'ON DELETE SET NULL')}, url TEXT);
CREATE TABLE teams (id TEXT PRIMARY KEY NOT NULL, captain_id TEXT ${lfk('people', 'ON DELETE SET NULL')}, name TEXT);
CREATE TABLE people (id TEXT PRIMARY KEY NOT NULL, team_id TEXT ${lfk('teams', 'ON DELETE CASCADE')}, name TEXT);
`;

/** The tables, parents first. */
export const NAMES = ['folders', 'notes', 'pins', 'links', 'teams', 'people'] as const;

export const FK_SERVER_TABLES: RegisteredTable[] = NAMES.map((table) => ({ schema: 'fkm', table, syncKey: 'id' }));
export const FK_LOCAL_TABLES: SyncedTable[] = NAMES.map((table) => ({ table, syncKey: 'id' }));

/** `startWorld` options for this schema. */
export const FK_WORLD: WorldOptions = {
  schemaSql: FK_SERVER_SQL,
  tables: FK_SERVER_TABLES,
  localSchema: FK_LOCAL_SQL,
  localTables: FK_LOCAL_TABLES,
  remoteSchema: 'fkm',
  purpose: 'fkmatrix',
};

/** Every table of the schema on a device, rows ordered by id. */
export function fkLocal(db: Database): Record<string, Record<string, unknown>[]> {
  return Object.fromEntries(
    NAMES.map((t) => [
      t,
      db.exec({ sql: `SELECT * FROM ${t} ORDER BY id`, rowMode: 'object', returnValue: 'resultRows' }).map((r) => ({ ...(r as object) })),
    ]),
  );
}

/** Every table of the schema in PostgreSQL for one user, rows ordered by id. */
export async function fkServer(world: Pick<World, 'server'>, userId: string): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const t of NAMES) {
    // Text ids sort as SQLite does (binary), whatever the database's collation.
    const res = await world.server.database.query(`SELECT * FROM fkm.${t} WHERE _sync_scope_id = $1 ORDER BY id COLLATE "C"`, [userId]);
    out[t] = (res.rows as Record<string, unknown>[]).map(({ _sync_scope_id, ...rest }) => rest);
  }
  return out;
}
