/**
 * `syncThenDetach()`, the sign-out that sends everything first, against the real server and
 * PostgreSQL (the cases of the contract fixtures' `lifecycle/behavior/basic.json`): one round when
 * nothing is written meanwhile; a write made during the sync takes a second round; writes that
 * keep coming stop it after a round that made no progress, still attached, nothing lost; a sync
 * that fails throws and leaves the device attached with its changes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

/** A fetch that runs `duringPush` when each push session is created (after the freeze). */
function fetchWritingDuringPush(duringPush: () => void): typeof fetch {
  return async (input, init) => {
    if (String(input).endsWith('/sync/push-sessions') && init?.method === 'POST') duringPush();
    return fetch(input, init);
  };
}

it('sends the pending changes, then signs out, in one round', async () => {
  const device = await world.device('gina');
  await device.engine.attach('gina');
  device.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Gina')`);

  const result = await device.engine.syncThenDetach();

  expect(result).toMatchObject({
    detach: { outcome: 'detached', discardedChanges: 0 },
    syncRounds: 1,
    remainingPendingCount: 0,
    lastSync: { push: { outcome: 'committed', rowCount: 1 } },
  });
  expect((await pgRows(world, 'users', 'gina')).map((r) => r.name)).toEqual(['Gina']);
  expect(localRows(device.db, 'users')).toEqual([]);
  expect(device.engine.status).toMatchObject({ userId: null, pendingCount: 0 });
});

it('a write made during the sync blocks the detach once; the second round sends it', async () => {
  let writes = 0;
  const device = await world.device('hugo', {
    fetch: fetchWritingDuringPush(() => {
      if (writes++ > 0) return;
      device.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(3)}', 'Written during the push')`);
      device.engine.notifyLocalWrite();
    }),
  });
  await device.engine.attach('hugo');
  device.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'Before')`);

  const result = await device.engine.syncThenDetach();

  expect(result).toMatchObject({ detach: { outcome: 'detached' }, syncRounds: 2, remainingPendingCount: 0 });
  expect((await pgRows(world, 'users', 'hugo')).map((r) => r.name)).toEqual(['Before', 'Written during the push']);
  expect(localRows(device.db, 'users')).toEqual([]);
  expect(device.engine.status.userId).toBeNull();
});

it('writes that keep coming stop it after a round without progress, still attached, nothing lost', async () => {
  let n = 10;
  const device = await world.device('iris', {
    fetch: fetchWritingDuringPush(() => {
      n++;
      device.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(n)}', 'Late ${n}')`);
      device.engine.notifyLocalWrite();
    }),
  });
  await device.engine.attach('iris');
  device.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(10)}', 'First')`);

  const result = await device.engine.syncThenDetach();

  // Round 1 sends First (Late 11 arrives), round 2 sends Late 11 (Late 12 arrives): still 1 pending.
  expect(result).toMatchObject({
    detach: { outcome: 'blocked_unsynced_data', pendingCount: 1 },
    syncRounds: 2,
    remainingPendingCount: 1,
  });
  expect(device.engine.status).toMatchObject({ userId: 'iris', pendingCount: 1 });
  expect((await pgRows(world, 'users', 'iris')).map((r) => r.name)).toEqual(['First', 'Late 11']);
  expect(localRows(device.db, 'users').map((r) => r.name)).toEqual(['First', 'Late 11', 'Late 12']);
});

it('a sync that fails throws and leaves the device attached with its changes', async () => {
  let offline = false;
  const device = await world.device('jade', {
    retry: { attempts: 1 },
    fetch: async (input, init) => {
      if (offline) throw new TypeError('Failed to fetch');
      return fetch(input, init);
    },
  });
  await device.engine.attach('jade');
  device.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(20)}', 'Jade')`);
  offline = true;

  await expect(device.engine.syncThenDetach()).rejects.toMatchObject({ code: 'network_error' });

  expect(device.engine.status).toMatchObject({ userId: 'jade', pendingCount: 1 });
  expect(localRows(device.db, 'users').map((r) => r.name)).toEqual(['Jade']);
  offline = false;
  await expect(device.engine.syncThenDetach()).resolves.toMatchObject({ detach: { outcome: 'detached' }, syncRounds: 1 });
  expect((await pgRows(world, 'users', 'jade')).map((r) => r.name)).toEqual(['Jade']);
});
