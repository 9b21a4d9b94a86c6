/**
 * The callback deadlines an app sets in `sync` (`getTokenTimeoutMs`, `conflictResolverTimeoutMs`)
 * cross to the worker and bind its engine: a `getToken` that never answers fails the call, typed,
 * after the app's deadline (real server on real PostgreSQL; the engine's own test covers both
 * deadlines: test/engine-integration/app-callbacks-that-never-answer.test.ts), and a deadline
 * setTimeout cannot keep is refused when the worker opens.
 */
import { expect, it } from 'vitest';
import { WorkerService } from '../../worker/database/worker-service.ts';
import { itemsSchema, itemsServerForThisFile } from './support/items-server.ts';

const { server, syncOptions } = itemsServerForThisFile('client-deadlines');

it('a getToken that never answers fails attach after the deadline the app set', async () => {
  const service = new WorkerService();
  const opened = await service.open(
    { name: 'deadline', schema: itemsSchema, storage: 'memory', sync: syncOptions({ getTokenTimeoutMs: 120 }) },
    { onCommit: () => {}, getToken: () => new Promise<string>(() => {}) },
  );
  expect(opened).toMatchObject({ ok: true });

  const attached = await service.sync('attach', ['alice']);

  expect(attached).toMatchObject({ ok: false, error: { message: expect.stringContaining('did not answer within 120 ms') } });
  expect(await service.sync('status', [])).toMatchObject({ ok: true, value: { userId: null, lastError: { code: 'token_unavailable' } } });
});

it('a deadline setTimeout cannot keep is refused when the worker opens', async () => {
  const service = new WorkerService();
  const opened = await service.open(
    { name: 'bad-deadline', schema: itemsSchema, storage: 'memory', sync: syncOptions({ conflictResolverTimeoutMs: 0 }) },
    { onCommit: () => {}, getToken: async () => server().tokenFor('alice') },
  );
  expect(opened).toMatchObject({ ok: false, error: { message: expect.stringContaining('conflictResolverTimeoutMs must be an integer') } });
});
