/**
 * Source recovery against the real server: a push answered with `source_sequence_out_of_order`
 * (our local sequence got ahead of the server's) makes the engine rotate its source through a
 * snapshot with `source_replacement`, keep the pending change as intent, and push it under the
 * new source starting at bundle 1, without the app being blocked from writing meanwhile.
 * A restart in the middle (durable `source_recovery` state) resumes with the same replacement id.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('rotates the source on source_sequence_out_of_order and pushes the kept intent', async () => {
  const d = await world.device('gina');
  await d.engine.attach('gina');
  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'first')`);
  await d.engine.sync();
  const oldSource = d.engine.status.sourceId;
  d.db.exec(`UPDATE _sync_source_state SET next_source_bundle_id = 7 WHERE source_id = '${oldSource}'`);
  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'second')`);
  const res = await d.engine.sync();
  expect(res.push.outcome).toBe('committed');
  const newSource = d.engine.status.sourceId;
  expect(newSource).not.toBe(oldSource);
  expect(d.db.selectValue(`SELECT next_source_bundle_id FROM _sync_source_state WHERE source_id = '${newSource}'`)).toBe(2);
  expect(d.db.selectValue(`SELECT replaced_by_source_id FROM _sync_source_state WHERE source_id = '${oldSource}'`)).toBe(newSource);
  expect((await pgRows(world, 'users', 'gina')).map((r) => r.name)).toEqual(['first', 'second']);
  const states = await world.server.database.query(`SELECT source_id, state FROM sync.source_state ORDER BY state`);
  expect(states.rows).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ source_id: oldSource, state: 'retired' }),
      expect.objectContaining({ source_id: newSource, state: 'active' }),
    ]),
  );
  expect(d.engine.status.pendingCount).toBe(0);
});

it('resumes a durable source recovery after a restart with the same replacement id', async () => {
  const d = await world.device('hank');
  await d.engine.attach('hank');
  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'h1')`);
  await d.engine.sync();
  const oldSource = d.engine.status.sourceId;
  // What a recovery code leaves behind if the tab closes before the rotation finished.
  d.db.exec(`UPDATE _sync_operation_state SET kind = 'source_recovery', target_user_id = 'hank', reason = 'source_retired',
             replacement_source_id = '${uuid(99)}'`);
  await d.engine.close();
  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'written while recovering')`); // no write blackout
  const again = await d.reopen();
  await again.sync();
  expect(again.status.sourceId).toBe(uuid(99));
  expect(again.status.sourceId).not.toBe(oldSource);
  expect((await pgRows(world, 'users', 'hank')).map((r) => r.name)).toEqual(['h1', 'written while recovering']);
  expect(localRows(d.db, 'users').map((r) => r.name)).toEqual(['h1', 'written while recovering']);
});
