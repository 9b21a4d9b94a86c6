/**
 * The worker sends the engine's events to the tab at the end of its current task rather than one
 * by one (they no longer delay a push's request or a pull's commit notice), but in the order the
 * engine emitted them, and every event of a sync call before that call's answer: when the answer
 * arrives, the last status the tab saw is the one after the call (phase idle, nothing pending).
 */
import { expect, it } from 'vitest';
import { WorkerService } from '../../worker/database/worker-service.ts';
import type { SyncEvent, SyncStatus } from '../../worker/engine/types.ts';
import { itemsSchema, itemsServerForThisFile } from './support/items-server.ts';

const { server, syncOptions } = itemsServerForThisFile('sync_events');

it('delivers every event of a call, in order, before the call answers', async () => {
  const events: SyncEvent[] = [];
  const service = new WorkerService();
  const opened = await service.open(
    { name: 'events', schema: itemsSchema, storage: 'memory', sync: syncOptions() },
    { onCommit: () => {}, onSyncEvent: (e) => events.push(e), getToken: async () => server().tokenFor('erin') },
  );
  expect(opened).toMatchObject({ ok: true });
  expect(await service.sync('attach', ['erin'])).toMatchObject({ ok: true });
  const from = events.length;
  await service.write([{ statements: [{ sql: "INSERT INTO items (id, body) VALUES ('x', 'one')" }] }]);
  const answered = await service.sync('sync', []);
  expect(answered).toMatchObject({ ok: true, value: { push: { outcome: 'committed' } } });
  const statuses = events.slice(from).flatMap((e) => (e.type === 'status' ? [e.status] : []));
  // The write's status (one change pending), then the sync's phases.
  expect(statuses[0]).toMatchObject({ phase: 'idle', pendingCount: 1 });
  const phases = statuses.map((s) => s.phase).filter((phase, i, all) => i === 0 || all[i - 1] !== phase);
  expect(phases).toEqual(['idle', 'pushing', 'pulling', 'idle']);
  const last = events.at(-1);
  expect(last?.type).toBe('status');
  expect((last as { status: SyncStatus }).status).toMatchObject({ phase: 'idle', pendingCount: 0 });
  await service.close();
});
