/**
 * A snapshot rebuild re-applies a pending delete of root R and notes the rows its local FK
 * actions remove or rewrite (`_sync_dropped_rows`, rooted at R), so that a row pulled later under
 * one of them follows R's delete. Here link L is reached twice: through `links.mid_id` (ON DELETE
 * SET NULL, from R's child M) and through `links.root_id` (CASCADE, from R). SQLite's cascade
 * deletes L and the leaf X under it; X must be noted too. Before, the walk stopped at L when it
 * met it first through SET NULL: X was not noted, so a twig B then added under X had no parent
 * and no pending delete to follow, and A's pull failed its FK check at every try.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncEvent, SyncedTable } from '../../worker/engine/index.ts';
import type { RegisteredTable } from '../../server/runtime/options.ts';
import type { Database } from '@sqlite.org/sqlite-wasm';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, startWorld } from './support/devices.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

const NAMES = ['roots', 'mids', 'links', 'leaves', 'twigs'] as const;
const fk = (col: string, parent: string, action: string): string =>
  `FOREIGN KEY (_sync_scope_id, ${col}) REFERENCES rbd.${parent} (_sync_scope_id, id) ${action} DEFERRABLE INITIALLY DEFERRED`;
const SERVER_SQL = `
CREATE SCHEMA IF NOT EXISTS rbd;
CREATE TABLE rbd.roots (_sync_scope_id text NOT NULL, id text NOT NULL, name text, PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE rbd.mids (_sync_scope_id text NOT NULL, id text NOT NULL, root_id text NOT NULL,
  PRIMARY KEY (_sync_scope_id, id), ${fk('root_id', 'roots', 'ON DELETE CASCADE')});
CREATE TABLE rbd.links (_sync_scope_id text NOT NULL, id text NOT NULL, mid_id text, root_id text NOT NULL,
  PRIMARY KEY (_sync_scope_id, id), ${fk('mid_id', 'mids', 'ON DELETE SET NULL (mid_id)')}, ${fk('root_id', 'roots', 'ON DELETE CASCADE')});
CREATE TABLE rbd.leaves (_sync_scope_id text NOT NULL, id text NOT NULL, link_id text NOT NULL,
  PRIMARY KEY (_sync_scope_id, id), ${fk('link_id', 'links', 'ON DELETE CASCADE')});
CREATE TABLE rbd.twigs (_sync_scope_id text NOT NULL, id text NOT NULL, leaf_id text NOT NULL,
  PRIMARY KEY (_sync_scope_id, id), ${fk('leaf_id', 'leaves', 'ON DELETE CASCADE')});
`;
const lfk = (parent: string, action: string): string => `REFERENCES ${parent}(id) ${action} DEFERRABLE INITIALLY DEFERRED`;
const LOCAL_SQL = `
CREATE TABLE roots (id TEXT PRIMARY KEY NOT NULL, name TEXT);
CREATE TABLE mids (id TEXT PRIMARY KEY NOT NULL, root_id TEXT NOT NULL ${lfk('roots', 'ON DELETE CASCADE')});
CREATE TABLE links (id TEXT PRIMARY KEY NOT NULL, mid_id TEXT ${lfk('mids', 'ON DELETE SET NULL')},
  root_id TEXT NOT NULL ${lfk('roots', 'ON DELETE CASCADE')});
CREATE TABLE leaves (id TEXT PRIMARY KEY NOT NULL, link_id TEXT NOT NULL ${lfk('links', 'ON DELETE CASCADE')});
CREATE TABLE twigs (id TEXT PRIMARY KEY NOT NULL, leaf_id TEXT NOT NULL ${lfk('leaves', 'ON DELETE CASCADE')});
`;

function local(db: Database): Record<string, Record<string, unknown>[]> {
  return Object.fromEntries(
    NAMES.map((t) => [
      t,
      db.exec({ sql: `SELECT * FROM ${t} ORDER BY id`, rowMode: 'object', returnValue: 'resultRows' }).map((r) => ({ ...(r as object) })),
    ]),
  );
}

let world: World;
beforeAll(async () => {
  world = await startWorld({
    schemaSql: SERVER_SQL,
    tables: NAMES.map((table): RegisteredTable => ({ schema: 'rbd', table, syncKey: 'id' })),
    localSchema: LOCAL_SQL,
    localTables: NAMES.map((table): SyncedTable => ({ table, syncKey: 'id' })),
    remoteSchema: 'rbd',
    purpose: 'rebuiltdelete',
  });
});
afterAll(() => world?.close());

it('a row pulled under a row a rebuilt delete cascaded away follows that delete, however the walk first met its parent', async () => {
  const user = 'rina';
  const { a, b } = await syncedDevicePair(world, user, { seedSql: `INSERT INTO roots(id, name) VALUES ('R', 'root')` });

  // A deletes R offline; B adds rows under R that A never had; A rebuilds from a snapshot
  // keeping its delete, whose local cascade removes them again.
  a.db.exec(`DELETE FROM roots WHERE id = 'R'`);
  b.db.exec(`INSERT INTO mids(id, root_id) VALUES ('M', 'R');
             INSERT INTO links(id, mid_id, root_id) VALUES ('L', 'M', 'R');
             INSERT INTO leaves(id, link_id) VALUES ('X', 'L')`);
  await b.engine.sync();
  await a.engine.hydrate();
  expect(local(a.db)).toEqual({ roots: [], mids: [], links: [], leaves: [], twigs: [] });

  b.db.exec(`INSERT INTO twigs(id, leaf_id) VALUES ('W', 'X')`);
  await b.engine.sync();

  const events: SyncEvent[] = [];
  a.engine.subscribe((e) => {
    if (e.type === 'lost' || e.type === 'error') events.push(e);
  });
  await a.engine.pullToStable();
  expect(a.engine.status.lastError).toBeNull();
  expect(events.map((e) => (e.type === 'lost' ? [e.lost.table, e.lost.key, e.lost.reason] : e.type))).toEqual([
    ['twigs', 'W', 'parent_deleted_locally'],
  ]);

  await a.engine.sync();
  await b.engine.sync();
  expect(a.engine.status.pendingCount).toBe(0);
  for (const t of NAMES) {
    const res = await world.server.database.query(`SELECT id FROM rbd.${t} WHERE _sync_scope_id = $1`, [user]);
    expect(res.rows).toEqual([]);
  }
  for (const d of [a, b]) {
    expect(local(d.db)).toEqual({ roots: [], mids: [], links: [], leaves: [], twigs: [] });
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
});
