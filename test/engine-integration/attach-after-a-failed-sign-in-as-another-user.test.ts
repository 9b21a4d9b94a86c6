/**
 * A sign-in that fails (the connect's answer is lost) and is then made as another user: the
 * engine had kept the first user's token, so attach compared the new user with that token's
 * subject and refused with `attach_user_mismatch` until the token expired, although `getToken()`
 * now answers for the new user. Now a cached token of another subject is asked for again before
 * attach refuses; a token that really belongs to someone else is still refused. Real server and
 * PostgreSQL (found by devices-switching-users-converge-randomized, seed 5200001).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { pgRows, startWorld, uuid } from './support/devices.ts';
import { LostAnswers } from './support/lost-answers.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('attach as alice after a failed attach as bob asks getToken() again', async () => {
  let account = 'bob';
  const lost = new LostAnswers();
  const d = await world.device(account, {
    retry: { attempts: 1 },
    fetch: lost.fetch,
    getToken: async () => world.server.tokenFor(account),
  });
  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'offline row')`);
  lost.loseNext(/\/sync\/connect$/);
  await expect(d.engine.attach('bob')).rejects.toMatchObject({ code: 'network_error' });
  expect(d.engine.status.userId).toBeNull();

  account = 'alice';
  expect(await d.engine.attach('alice')).toMatchObject({ status: 'connected', userId: 'alice' });
  await d.engine.sync();
  expect((await pgRows(world, 'users', 'alice')).map((r) => r.name)).toEqual(['offline row']);
  expect(await pgRows(world, 'users', 'bob')).toEqual([]);
});

it('still refuses a token that belongs to someone else', async () => {
  const d = await world.device('carol', { getToken: async () => world.server.tokenFor('mallory') });
  await expect(d.engine.attach('carol')).rejects.toMatchObject({ code: 'attach_user_mismatch' });
  expect(d.engine.status.userId).toBeNull();
});
