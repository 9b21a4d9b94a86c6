/**
 * `_sync_attachment_state.known_row_version` (layout 4) is at least every `row_version` in
 * `_sync_row_state`, whichever path wrote it: our own committed push replayed, a snapshot, a
 * conflict answer ahead of the checkpoint, a pulled bundle; and 0 again after a detach wipes
 * the row versions. The pull's cascade checks skip on it (remote-cascades.ts), so a bound
 * below a known version would skip a check that must run.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

/** [known_row_version, the highest row_version stored]. */
const bound = (db: Database): [number, number] => [
  Number(db.selectValue('SELECT known_row_version FROM _sync_attachment_state')),
  Number(db.selectValue('SELECT COALESCE(MAX(row_version), 0) FROM _sync_row_state')),
];

it('stays at the highest row version through push, snapshot, conflict, pull and detach', async () => {
  const a = await world.device('kira');
  await a.engine.attach('kira');
  expect(bound(a.db)).toEqual([0, 0]);
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'One'), ('${uuid(2)}', 'Two')`);
  const pushed = await a.engine.sync();
  expect(pushed.push.outcome).toBe('committed');
  expect(bound(a.db)).toEqual([pushed.push.bundleSeq, pushed.push.bundleSeq]);

  // A fresh device with remote data attaches by snapshot.
  const b = await world.device('kira');
  expect(await b.engine.attach('kira')).toMatchObject({ status: 'connected', outcome: 'used_remote_state' });
  expect(bound(b.db)).toEqual([1, 1]);

  // A's update commits first; B's concurrent one conflicts and takes the server's row (server-wins)
  // at a version ahead of B's checkpoint, then B pulls.
  a.db.exec(`UPDATE users SET name = 'From A' WHERE id = '${uuid(1)}'`);
  await a.engine.sync();
  b.db.exec(`UPDATE users SET name = 'From B' WHERE id = '${uuid(1)}'`);
  const synced = await b.engine.sync();
  expect(synced.push.conflicts).toBe(1);
  expect(localRows(b.db, 'users').find((u) => u.id === uuid(1))).toMatchObject({ name: 'From A' });
  expect(bound(b.db)).toEqual([2, 2]);

  // A pulled bundle of another table.
  a.db.exec(`INSERT INTO tags(name, color) VALUES ('t', 'red')`);
  await a.engine.sync();
  await b.engine.sync();
  expect(bound(b.db)).toEqual([3, 3]);

  expect(await b.engine.detach()).toMatchObject({ outcome: 'detached' });
  expect(bound(b.db)).toEqual([0, 0]);
});
