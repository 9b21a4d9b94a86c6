/**
 * The bundle holding a child of a parent the device already knows is deleted at a later version
 * commits on its own: the child is dropped inside that bundle's transaction
 * (`dropChildrenOfLaterDeletedParents`), so the device moves past it even when the next page,
 * which deletes the child anyway, cannot be fetched yet. Without that pass the bundle fails its
 * FK check and only the fallback that applies the rest of the pull in one transaction gets past
 * it, which needs every later page first: on a flaky network the checkpoint would not move.
 * Same setup as `pull-child-under-parent-known-deleted-later`, with one bundle per page and the
 * pages after the child's bundle failing until the network comes back.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, startWorld, uuid } from './support/devices.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it("commits the child's bundle alone while the later pages are unreachable", async () => {
  let failPullsAfter = Infinity;
  const { a, b } = await syncedDevicePair(world, 'wren', {
    a: { conflicts: 'server-wins' },
    b: {
      conflicts: 'server-wins',
      pullMaxBundles: 1,
      retry: { attempts: 1 },
      fetch: (input, init) => {
        const url = new URL(String(input));
        const after = Number(url.searchParams.get('after_bundle_seq'));
        if (url.pathname.endsWith('/pull') && after >= failPullsAfter) return Promise.reject(new TypeError('network down'));
        return fetch(input, init);
      },
    },
  });

  // Bundle s+1: a user and a project under it. Bundle s+2: the user deleted (cascade).
  const start = a.engine.status.checkpoint;
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Parent');
             INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'Child')`);
  await a.engine.sync();
  a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
  await a.engine.sync();
  const childBundle = start + 1;
  expect(a.engine.status.checkpoint).toBe(start + 2);
  expect(b.engine.status.checkpoint).toBe(start);

  // B's push of the same user key conflicts (server wins): B learns the tombstone at s+2. Its
  // pull then gets the child's bundle, but no page after it.
  failPullsAfter = childBundle;
  b.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Mine')`);
  await b.engine.sync().catch(() => undefined);
  await b.engine.sync().catch(() => undefined);

  expect(b.engine.status.checkpoint).toBe(childBundle);
  expect(localRows(b.db, 'projects')).toEqual([]);
  expect(foreignKeyViolations(b.db)).toBe(0);

  // The network is back: B converges with A.
  failPullsAfter = Infinity;
  await b.engine.sync();
  expect(b.engine.status.lastError).toBeNull();
  expect(b.engine.status.checkpoint).toBe(a.engine.status.checkpoint);
  expect(localRows(b.db, 'users')).toEqual([]);
  expect(localRows(b.db, 'projects')).toEqual([]);
});
