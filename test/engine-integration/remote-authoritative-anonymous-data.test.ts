/**
 * Attach to an account that already has data (`remote_authoritative`) while this device holds
 * anonymous offline rows. Default `anonymousData: 'keep'` (better than KMP, which drops them):
 * the snapshot is applied and the anonymous rows stay as pending intent, pushed on the next sync;
 * a key that collides with a server row meets the resolver. `'discard'` drops them, reported in
 * the attach result.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

async function seedAccount(user: string) {
  const a = await world.device(user);
  await a.engine.attach(user);
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'server row'); INSERT INTO tags(name, color) VALUES ('shared', 'server')`);
  await a.engine.sync();
  return a;
}

it("keeps anonymous rows as intent ('keep', default)", async () => {
  await seedAccount('jane');
  const d = await world.device('jane');
  d.db.exec(
    `INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'written offline'); INSERT INTO tags(name, color) VALUES ('shared', 'mine')`,
  );
  const res = await d.engine.attach('jane');
  expect(res).toMatchObject({ status: 'connected', outcome: 'used_remote_state', snapshotRows: 2, keptLocalChanges: 2 });
  expect(localRows(d.db, 'users').map((r) => r.name)).toEqual(['server row', 'written offline']);
  expect(d.engine.status.pendingCount).toBe(2);
  const sync = await d.engine.sync(); // 'shared' collides with the server's row: server wins by default
  expect(sync.push).toMatchObject({ outcome: 'committed', conflicts: 1 });
  expect((await pgRows(world, 'users', 'jane')).map((r) => r.name)).toEqual(['server row', 'written offline']);
  expect((await pgRows(world, 'tags', 'jane', 'name'))[0]).toMatchObject({ name: 'shared', color: 'server' });
  expect(localRows(d.db, 'tags', 'name')[0]).toMatchObject({ color: 'server' });
  expect(d.engine.status.pendingCount).toBe(0);
});

it("drops anonymous rows with 'discard'", async () => {
  await seedAccount('kate');
  const d = await world.device('kate', { anonymousData: 'discard' });
  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'written offline')`);
  const res = await d.engine.attach('kate');
  expect(res).toMatchObject({ outcome: 'used_remote_state', discardedLocalChanges: 1 });
  expect(localRows(d.db, 'users').map((r) => r.name)).toEqual(['server row']);
  expect(d.engine.status.pendingCount).toBe(0);
});
