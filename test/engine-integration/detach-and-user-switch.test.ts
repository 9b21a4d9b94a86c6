/**
 * Detach and user switch on one database and one source id: detach is blocked while changes are
 * unsynced (unless forced), wipes the user's synced rows, keeps the source id; the next user sees
 * none of the previous user's data, and pushes start at source bundle 1 for them (sequencing is
 * per (user, source), notes §12.4) while the first user continues at their own next id.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('switches users without leaking data or breaking source sequencing', async () => {
  let currentUser = 'erin';
  const d = await world.device('erin', { getToken: async () => world.server.tokenFor(currentUser) });
  await d.engine.attach('erin');
  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Erin 1')`);
  await d.engine.sync();
  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'Erin 2')`);
  await d.engine.sync();
  const source = d.engine.status.sourceId;

  d.db.exec(`UPDATE users SET name = 'unsynced' WHERE id = '${uuid(1)}'`);
  expect(await d.engine.detach()).toEqual({ outcome: 'blocked_unsynced_data', pendingCount: 1 });
  await d.engine.sync();
  expect(await d.engine.detach()).toEqual({ outcome: 'detached', discardedChanges: 0 });
  expect(localRows(d.db, 'users')).toEqual([]);
  expect(d.engine.status).toMatchObject({ userId: null, sourceId: source, checkpoint: 0, pendingCount: 0 });

  currentUser = 'frank';
  await expect(d.engine.attach('frank')).resolves.toMatchObject({ outcome: 'started_empty' });
  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(3)}', 'Frank')`);
  const pushed = await d.engine.pushPending();
  expect(pushed.outcome).toBe('committed');
  expect(localRows(d.db, 'users').map((r) => r.name)).toEqual(['Frank']);
  expect((await pgRows(world, 'users', 'frank')).map((r) => r.name)).toEqual(['Frank']);
  expect(d.db.selectValue(`SELECT next_source_bundle_id FROM _sync_source_state WHERE user_id = 'frank'`)).toBe(2);

  // Frank signs out with an unsynced change: forced detach drops it.
  d.db.exec(`INSERT INTO tags(name) VALUES ('frank-only')`);
  expect(await d.engine.detach({ force: true })).toEqual({ outcome: 'detached', discardedChanges: 1 });

  currentUser = 'erin';
  await expect(d.engine.attach('erin')).resolves.toMatchObject({ outcome: 'used_remote_state', snapshotRows: 2 });
  expect(localRows(d.db, 'users').map((r) => r.name)).toEqual(['unsynced', 'Erin 2']);
  expect(localRows(d.db, 'tags', 'name')).toEqual([]);
  d.db.exec(`INSERT INTO tags(name) VALUES ('erin-again')`);
  await d.engine.sync();
  expect(d.db.selectValue(`SELECT next_source_bundle_id FROM _sync_source_state WHERE user_id = 'erin'`)).toBe(5);
  expect((await pgRows(world, 'tags', 'erin', 'name')).map((r) => r.name)).toEqual(['erin-again']);
  expect(await pgRows(world, 'tags', 'frank', 'name')).toEqual([]);
});
