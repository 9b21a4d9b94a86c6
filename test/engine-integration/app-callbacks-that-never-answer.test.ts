/**
 * The app's callbacks run in its tab and may never settle (a sign-in dialog nobody answers, a
 * token request without a timeout, a resolver waiting for the user), while the sync operation
 * waiting for them holds the writer lock. Each has a deadline: past it the operation fails with a
 * typed error, nothing is lost, and the next sync runs (real server and PostgreSQL). Bad deadline
 * values are refused at open.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SyncError } from '../../worker/engine/index.ts';
import { signHarnessToken } from '../harness/sync-server.ts';
import type { ConflictResolution } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

const never = <T>(): Promise<T> => new Promise<T>(() => {});

it('a getToken that never answers fails the sync as token_unavailable, and the next sync works', async () => {
  let hang = false;
  const device = await world.device('kate', {
    getTokenTimeoutMs: 150,
    // Tokens that expire within the engine's refresh margin: every request asks getToken again.
    getToken: async () => (hang ? never<string>() : signHarnessToken('kate', 30)),
  });
  await device.engine.attach('kate');
  device.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Kate')`);
  hang = true;

  const error = await device.engine.sync().catch((e: unknown) => e);

  expect(error).toBeInstanceOf(SyncError);
  expect(error).toMatchObject({ code: 'token_unavailable', message: expect.stringContaining('did not answer within 150 ms') });
  expect(device.engine.status).toMatchObject({ userId: 'kate', pendingCount: 1, phase: 'idle' });
  hang = false;
  await device.engine.sync();
  expect(device.engine.status.pendingCount).toBe(0);
  expect((await pgRows(world, 'users', 'kate')).map((r) => r.name)).toEqual(['Kate']);
});

it('a conflict resolver that never decides fails the push as conflict_resolver_timeout; the change stays pending', async () => {
  let decide: () => Promise<ConflictResolution> = never;
  const a = await world.device('liam');
  const b = await world.device('liam', { conflictResolverTimeoutMs: 150, conflicts: () => decide() });
  await a.engine.attach('liam');
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'Original')`);
  await a.engine.sync();
  await b.engine.attach('liam');
  a.db.exec(`UPDATE users SET name = 'From A' WHERE id = '${uuid(2)}'`);
  await a.engine.sync();
  b.db.exec(`UPDATE users SET name = 'From B' WHERE id = '${uuid(2)}'`);

  const error = await b.engine.pushPending().catch((e: unknown) => e);

  expect(error).toBeInstanceOf(SyncError);
  expect(error).toMatchObject({ code: 'conflict_resolver_timeout', message: expect.stringContaining('within 150 ms') });
  expect(b.engine.status).toMatchObject({ pendingCount: 1, phase: 'idle' });
  expect(localRows(b.db, 'users').map((r) => r.name)).toEqual(['From B']);
  // The engine is not stuck: the next sync asks again, and this time the resolver answers.
  decide = async () => ({ keep: 'local' });
  await b.engine.sync();
  expect(b.engine.status.pendingCount).toBe(0);
  expect((await pgRows(world, 'users', 'liam')).map((r) => r.name)).toEqual(['From B']);
});

it('refuses deadlines setTimeout cannot keep', async () => {
  for (const [name, value] of [
    ['getTokenTimeoutMs', 0],
    ['getTokenTimeoutMs', 1.5],
    ['conflictResolverTimeoutMs', 2 ** 31],
    ['conflictResolverTimeoutMs', Number.POSITIVE_INFINITY],
  ] as const) {
    const device = world.device('mia', { [name]: value });
    await expect(device).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining(name) });
  }
});
