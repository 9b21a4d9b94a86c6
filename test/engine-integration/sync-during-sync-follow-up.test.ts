/**
 * A `sync()` called while a run is in flight shares that run — unless local writes were noted
 * after it started: its push may already be frozen without them, so the caller gets one follow-up
 * run and the write reaches the server without waiting for the next periodic sync.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('a write made after the in-flight push froze gets a follow-up run', async () => {
  let writeDuringPush: (() => void) | null = null;
  const device = await world.device('carol', {
    fetch: async (input, init) => {
      // The first push-session create happens after the freeze: write now, as an app would.
      if (String(input).endsWith('/sync/push-sessions') && writeDuringPush) {
        const write = writeDuringPush;
        writeDuringPush = null;
        write();
      }
      return fetch(input, init);
    },
  });
  await device.engine.attach('carol');
  device.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'First')`);
  device.engine.notifyLocalWrite();

  let joined: Promise<unknown> | null = null;
  writeDuringPush = () => {
    device.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'Second')`);
    device.engine.notifyLocalWrite();
    joined = device.engine.sync();
  };
  const first = device.engine.sync();
  await first;
  expect(joined).not.toBeNull();
  expect(joined).not.toBe(first);
  await joined;

  expect(device.engine.status.pendingCount).toBe(0);
  expect((await pgRows(world, 'users', 'carol')).map((r) => r.name)).toEqual(['First', 'Second']);
  expect(localRows(device.db, 'users').map((r) => r.name)).toEqual(['First', 'Second']);
});

it('concurrent calls with no new writes share one run', async () => {
  const device = await world.device('dave');
  await device.engine.attach('dave');
  device.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(3)}', 'Only')`);
  device.engine.notifyLocalWrite();
  const a = device.engine.sync();
  const b = device.engine.sync();
  expect(b).toBe(a);
  await a;
  expect(device.engine.status.pendingCount).toBe(0);
});

it('a watch wake-up after the in-flight pull passed gets a follow-up run', async () => {
  const other = await world.device('erin');
  await other.engine.attach('erin');
  let afterPull: (() => Promise<void>) | null = null;
  const device = await world.device('erin', {
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      // The in-flight sync's pull has its answer: another device commits and the watch wakes us.
      if (String(input).includes('/sync/pull') && afterPull) {
        const then = afterPull;
        afterPull = null;
        await then();
      }
      return res;
    },
  });
  await device.engine.attach('erin');

  let joined: Promise<unknown> | null = null;
  afterPull = async () => {
    other.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(5)}', 'Late')`);
    other.engine.notifyLocalWrite();
    await other.engine.sync();
    device.engine.notifyRemoteChange();
    joined = device.engine.sync();
  };
  const first = device.engine.sync();
  await first;
  expect(joined).not.toBeNull();
  expect(joined).not.toBe(first);
  await joined;
  expect(localRows(device.db, 'users').map((r) => r.name)).toEqual(['Late']);
});
