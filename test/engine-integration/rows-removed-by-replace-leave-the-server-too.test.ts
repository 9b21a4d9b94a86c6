/**
 * On a synced table with a secondary unique value (PostgreSQL: a DEFERRABLE unique constraint, as
 * docs/server.md asks; SQLite: a UNIQUE column), a device that replaces a row through that value
 * (`INSERT OR REPLACE` of a new key) or deletes a row and creates another with its value pushes
 * both changes in one bundle that commits, and another device ends with the same rows.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { pgRows, startWorld } from './support/devices.ts';
import { rows } from '../engine/support/sqlite.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({
    schemaSql: `CREATE SCHEMA IF NOT EXISTS uq;
      CREATE TABLE uq.tags (_sync_scope_id text NOT NULL, id text NOT NULL, name text NOT NULL,
        PRIMARY KEY (_sync_scope_id, id), UNIQUE (_sync_scope_id, name) DEFERRABLE INITIALLY DEFERRED);`,
    tables: [{ schema: 'uq', table: 'tags', syncKey: 'id' }],
    localSchema: 'CREATE TABLE tags (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL UNIQUE);',
    localTables: [{ table: 'tags', syncKey: 'id' }],
    remoteSchema: 'uq',
    purpose: 'replace_unique',
  });
});
afterAll(() => world?.close());

async function serverTags(user: string): Promise<string[]> {
  return (await pgRows(world, 'tags', user, 'id', 'uq')).map((t) => `${String(t.id)}:${String(t.name)}`);
}

for (const [what, write] of [
  ['INSERT OR REPLACE of a new key', "INSERT OR REPLACE INTO tags VALUES ('r', 'x')"],
  ['a delete, then a new row with the same value', "DELETE FROM tags WHERE id = 's'; INSERT INTO tags VALUES ('r', 'x')"],
] as const) {
  it(`${what}: one bundle commits and the other device converges`, async () => {
    const user = what.startsWith('INSERT') ? 'rhea' : 'dina';
    const a = await world.device(user);
    await a.engine.attach(user);
    a.db.exec("INSERT INTO tags VALUES ('s', 'x'), ('t', 'y')");
    await a.engine.sync();

    a.db.exec(write);
    expect(await a.engine.sync()).toMatchObject({ push: { outcome: 'committed', rowCount: 2 } });
    expect(a.engine.status.pendingCount).toBe(0);
    expect(await serverTags(user)).toEqual(['r:x', 't:y']);

    const b = await world.device(user);
    await b.engine.attach(user);
    await b.engine.sync();
    expect(rows(b.db, 'SELECT id, name FROM tags ORDER BY id')).toEqual([
      { id: 'r', name: 'x' },
      { id: 't', name: 'y' },
    ]);
  });
}
