/**
 * A push whose answer was lost (the server committed it) and a snapshot that then went past it
 * (`hydrate()`, or a reconnect's snapshot) while the device still held the bundle as unresolved:
 * the snapshot re-applies the frozen bundle's rows as pending intent over newer server state, so
 * when the next push learns the bundle was committed long ago, replaying it would keep those
 * stale rows for good (randomized user-switch seed 5700267: rows another device deleted stayed
 * here). The device moves past the bundle and rebuilds from a snapshot instead: every device ends
 * with the server's rows, and edits made after the bundle was frozen (one of a row the bundle
 * carried) are still pushed, as edits of the committed versions.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';
import { LostAnswers } from './support/lost-answers.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

const names = (rows: Record<string, unknown>[]) => rows.map((r) => `${String(r.id).slice(-1)}:${String(r.name)}`).sort();

it('a lost push answer, then a snapshot past the bundle: the device rebuilds and converges', async () => {
  const user = 'lena';
  const lost = new LostAnswers();
  const a = await world.device(user, { fetch: lost.fetch, retry: { attempts: 1 } });
  const b = await world.device(user);
  await a.engine.attach(user);
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'one'), ('${uuid(2)}', 'two')`);
  await a.engine.sync();
  await b.engine.attach(user);

  // A's bundle commits on the server; its answer never arrives.
  a.db.exec(
    `INSERT INTO users(id, name) VALUES ('${uuid(3)}', 'three'), ('${uuid(4)}', 'four'); UPDATE users SET name = 'one by a' WHERE id = '${uuid(1)}'`,
  );
  lost.loseNext(/\/sync\/push-sessions$|\/commit$/);
  await expect(a.engine.sync()).rejects.toThrow(/connection lost/);
  expect(names(await pgRows(world, 'users', user))).toEqual(['1:one by a', '2:two', '3:three', '4:four']);
  // Edits after the freeze, pending: of a row outside the bundle, and a delete of one of its rows.
  a.db.exec(`UPDATE users SET name = 'two by a' WHERE id = '${uuid(2)}'; DELETE FROM users WHERE id = '${uuid(4)}'`);

  // B moves the server past A's bundle: three is deleted, one renamed again.
  await b.engine.sync();
  b.db.exec(`DELETE FROM users WHERE id = '${uuid(3)}'; UPDATE users SET name = 'one by b' WHERE id = '${uuid(1)}'`);
  await b.engine.sync();

  // A takes a snapshot while its bundle is still unresolved, then syncs.
  await a.engine.hydrate();
  await a.engine.sync();
  await a.engine.sync();
  await b.engine.sync();

  const server = names(await pgRows(world, 'users', user));
  expect(server).toEqual(['1:one by b', '2:two by a']);
  expect(names(localRows(a.db, 'users'))).toEqual(server);
  expect(names(localRows(b.db, 'users'))).toEqual(server);
  expect(a.engine.status.pendingCount).toBe(0);
});
