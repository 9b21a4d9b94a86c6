/**
 * The tab ↔ worker calls (worker-calls.ts) over real message ports (structured clone, transfer):
 * a real WorkerService served at one end answers the tab's calls, and calls the tab's callbacks
 * (commit notices, `getToken()`) through the port handed over with `open`. A callback that throws
 * reaches the worker as an error with its message; answers in any order find their calls.
 */
import { afterEach, expect, it } from 'vitest';
import { callsTo, servedPort, serveCalls } from '../../worker/database/worker-calls.ts';
import { WorkerService } from '../../worker/database/worker-service.ts';
import type { WorkerCallbacks } from '../../worker/database/worker-service.ts';
import type { CommitNotice } from '../../worker/database/table-access.ts';

const schema = { version: 1, migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, body TEXT)'] };
const opened: MessagePort[] = [];

function link(): { tab: MessagePort; worker: MessagePort } {
  const channel = new MessageChannel();
  opened.push(channel.port1, channel.port2);
  return { tab: channel.port1, worker: channel.port2 };
}

afterEach(() => {
  for (const port of opened.splice(0)) port.close();
});

it('runs a WorkerService across ports: open, write, read, commit notices through the callback port', async () => {
  const { tab, worker } = link();
  serveCalls(worker, new WorkerService());
  const remote = callsTo<WorkerService>(tab);
  const notices: CommitNotice[] = [];
  const callbacks = servedPort<WorkerCallbacks>({ onCommit: (n) => notices.push(n) });
  try {
    const open = await remote.open({ name: 'calls', schema, storage: 'memory' }, callbacks.argument);
    expect(open).toMatchObject({ ok: true, value: { storage: 'memory', previousSchemaVersion: 0, openAttempts: 1 } });
    const bytes = new Uint8Array([1, 2, 3]);
    const [write] = await remote.write([{ statements: [{ sql: 'INSERT INTO items (id, body) VALUES (?, ?)', params: ['a', 'x'] }] }]);
    expect(write).toMatchObject({ ok: true });
    const read = await remote.query('SELECT id, body, ? AS b FROM items', [bytes]);
    expect(read).toEqual({ ok: true, value: { columns: ['id', 'body', 'b'], rows: [{ id: 'a', body: 'x', b: bytes }] } });
    await expect.poll(() => notices.map((n) => n.tables)).toEqual([['items']]);
    // Typed failures stay values.
    expect(await remote.query('SELECT * FROM missing')).toMatchObject({ ok: false, error: { code: 'sql_error' } });
    await remote.close();
  } finally {
    callbacks.close();
  }
});

it('answers out-of-order calls to their callers, and carries a thrown error by name and message', async () => {
  const { tab, worker } = link();
  serveCalls(worker, {
    async slow(x: number) {
      await new Promise((r) => setTimeout(r, 30));
      return x * 2;
    },
    fast: (x: number) => x + 1,
    fails() {
      throw new RangeError('no token right now');
    },
  });
  const remote = callsTo<{ slow(x: number): Promise<number>; fast(x: number): number; fails(): void }>(tab);
  const slow = remote.slow(5);
  expect(await remote.fast(1)).toBe(2);
  expect(await slow).toBe(10);
  await expect(remote.fails()).rejects.toMatchObject({ name: 'RangeError', message: 'no token right now' });
  // Awaiting the remote itself is not a call.
  expect(await Promise.resolve(remote)).toBe(remote);
});

it('a callback port handed to the served side calls back into the caller, and its thrown errors arrive', async () => {
  const { tab, worker } = link();
  serveCalls(worker, {
    async askToken(callbacks: Pick<WorkerCallbacks, 'getToken'>) {
      try {
        return `got ${await callbacks.getToken!()}`;
      } catch (error) {
        return `failed: ${(error as Error).message}`;
      }
    },
  });
  const remote = callsTo<{ askToken(callbacks: Pick<WorkerCallbacks, 'getToken'>): Promise<string> }>(tab);
  const good = servedPort<Pick<WorkerCallbacks, 'getToken'>>({ getToken: async () => 'token-1' });
  const bad = servedPort<Pick<WorkerCallbacks, 'getToken'>>({
    getToken: async () => {
      throw new Error('identity server unreachable');
    },
  });
  try {
    expect(await remote.askToken(good.argument)).toBe('got token-1');
    expect(await remote.askToken(bad.argument)).toBe('failed: identity server unreachable');
  } finally {
    good.close();
    bad.close();
  }
});
