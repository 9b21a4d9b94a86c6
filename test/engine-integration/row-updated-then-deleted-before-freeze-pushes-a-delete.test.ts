/**
 * A pending upsert carries no payload (the push reads the live row), so a row that is gone by the
 * time the push freezes must go up as a delete, never as a stale or empty upsert: after captured
 * updates and a captured delete; a row inserted, updated and deleted before any push sends nothing;
 * and a row deleted while the capture triggers were dropped (a schema migration window, see
 * `dropCaptureTriggers`) is found gone at the freeze and sent as a delete too.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropCaptureTriggers } from '../../worker/engine/capture.ts';
import type { World } from './support/devices.ts';
import { pgRows, startWorld, uuid } from './support/devices.ts';
import { recordPushedRows } from './support/pushed-rows.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('updated then deleted before the freeze: one DELETE; inserted, updated and deleted: nothing', async () => {
  const pushed = recordPushedRows();
  const a = await world.device('della', { fetch: pushed.fetch });
  await a.engine.attach('della');
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'One'), ('${uuid(2)}', 'Two')`);
  await a.engine.sync();
  pushed.take();

  a.db.exec(`UPDATE users SET name = 'One b' WHERE id = '${uuid(1)}';
             UPDATE users SET name = 'One c' WHERE id = '${uuid(1)}';
             DELETE FROM users WHERE id = '${uuid(1)}';
             INSERT INTO users(id, name) VALUES ('${uuid(3)}', 'Three');
             UPDATE users SET name = 'Three b' WHERE id = '${uuid(3)}';
             DELETE FROM users WHERE id = '${uuid(3)}';`);
  expect(await a.engine.sync()).toMatchObject({ push: { outcome: 'committed', rowCount: 1 } });
  expect(pushed.take()).toEqual([{ schema: 'business', table: 'users', key: { id: uuid(1) }, op: 'DELETE', base_row_version: 1 }]);
  expect((await pgRows(world, 'users', 'della')).map((r) => r.name)).toEqual(['Two']);
  expect(a.engine.status.pendingCount).toBe(0);
});

it('a pending update whose row was deleted with the triggers dropped goes up as a delete', async () => {
  const pushed = recordPushedRows();
  const a = await world.device('dora', { fetch: pushed.fetch });
  await a.engine.attach('dora');
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'One'), ('${uuid(2)}', 'Two')`);
  await a.engine.sync();
  pushed.take();

  a.db.exec(`UPDATE users SET name = 'One b' WHERE id = '${uuid(1)}'; UPDATE users SET name = 'Two b' WHERE id = '${uuid(2)}'`);
  await a.engine.close();
  dropCaptureTriggers(a.db);
  a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
  const again = await a.reopen({ autoSync: false });

  expect(await again.sync()).toMatchObject({ push: { outcome: 'committed', rowCount: 2 } });
  const rows = pushed.take();
  expect(
    rows.map((r) => [r.key.id, r.op, r.base_row_version, r.payload === undefined ? null : (r.payload as { name: string }).name]),
  ).toEqual([
    [uuid(2), 'UPDATE', 1, 'Two b'],
    [uuid(1), 'DELETE', 1, null],
  ]);
  expect((await pgRows(world, 'users', 'dora')).map((r) => r.name)).toEqual(['Two b']);
  expect(again.status.pendingCount).toBe(0);
});
