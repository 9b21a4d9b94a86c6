/**
 * The status event of a local write (its pending count) is not sent within `notifyLocalWrite`,
 * which the worker calls before a write answers: it goes out in the next task, one for several
 * writes, or right before the next event the engine emits, so listeners still see events in order.
 */
import { expect, it } from 'vitest';
import type { SyncEvent } from '../../worker/engine/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function setup() {
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [{ table: 'users', syncKey: 'id' }]);
  await attachStartedEmpty(s);
  const events: SyncEvent[] = [];
  s.engine.subscribe((e) => events.push(e));
  return { s, events };
}

it('sends one status after the writes, not within them', async () => {
  const { s, events } = await setup();
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  s.engine.notifyLocalWrite();
  s.db.exec("INSERT INTO users VALUES ('u2', 'Grace')");
  s.engine.notifyLocalWrite();
  expect(events).toEqual([]);
  await nextTask();
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ type: 'status', status: { phase: 'idle', pendingCount: 2 } });
  await nextTask();
  expect(events).toHaveLength(1);
  await s.engine.close();
});

it('an owed status goes out before the next event', async () => {
  const { s, events } = await setup();
  new PushResponder().install(s.server);
  s.server.always('GET', '/sync/pull', { status: 200, body: { stable_bundle_seq: 1, bundles: [], has_more: false } });
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  s.engine.notifyLocalWrite();
  await s.engine.sync(); // starts before the owed status's task
  const statuses = events.flatMap((e) => (e.type === 'status' ? [e.status] : []));
  expect(statuses[0]).toMatchObject({ phase: 'idle', pendingCount: 1 });
  expect(statuses.map((st) => st.phase).filter((p, i, all) => i === 0 || all[i - 1] !== p)).toEqual(['idle', 'pushing', 'pulling', 'idle']);
  await nextTask();
  expect(events.filter((e) => e.type === 'status')).toHaveLength(statuses.length); // nothing owed any more
  await s.engine.close();
});
