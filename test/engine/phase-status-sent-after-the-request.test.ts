/**
 * A step's status event (its phase) is owed, not sent before the step's request: reading the
 * status is two queries that the request would wait for. A sync with nothing to push (a watch
 * wake-up's) sends its pull request before any status of the run; the owed ones follow, every
 * phase still reported, in order, and the sync's last status is idle.
 */
import { expect, it } from 'vitest';
import type { SyncEvent } from '../../worker/engine/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function setup() {
  const events: SyncEvent[] = [];
  let inner: typeof fetch = () => Promise.reject(new Error('not ready'));
  /** Per request: the phases of the status events sent before it. */
  const seen: { request: string; phases: string[] }[] = [];
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [{ table: 'users', syncKey: 'id' }], {
    fetch: (input, init) => {
      const statuses = events.flatMap((e) => (e.type === 'status' ? [e.status.phase] : []));
      seen.push({ request: `${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`, phases: statuses });
      return inner(input, init);
    },
  });
  inner = s.server.fetch;
  await attachStartedEmpty(s);
  new PushResponder().install(s.server);
  // The pushed bundle (if any) is seq 1, replayed by the push: the pull finds nothing newer.
  s.server.always('GET', '/sync/pull', (req) => ({
    status: 200,
    body: { stable_bundle_seq: Number(req.query.after_bundle_seq), bundles: [], has_more: false },
  }));
  s.engine.subscribe((e) => events.push(e));
  const phases = (): string[] =>
    events.flatMap((e) => (e.type === 'status' ? [e.status.phase] : [])).filter((p, i, all) => i === 0 || all[i - 1] !== p);
  return { s, events, seen, phases };
}

it('a sync with nothing to push sends its pull request before any status', async () => {
  const { s, events, seen, phases } = await setup();
  const result = await s.engine.sync();
  expect(result.push.outcome).toBe('no_change');
  const pull = seen.find((r) => r.request.endsWith('/sync/pull'))!;
  expect(pull.phases).toEqual([]);
  expect(phases()).toEqual(['pushing', 'pulling', 'idle']);
  const count = events.length;
  await nextTask();
  expect(events).toHaveLength(count); // nothing owed any more
  await s.engine.close();
});

it('a sync that pushes reports every phase in order, the pull request before its phase', async () => {
  const { s, events, seen, phases } = await setup();
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  s.engine.notifyLocalWrite();
  await nextTask(); // the write's owed status goes out
  const result = await s.engine.sync();
  expect(result.push).toMatchObject({ outcome: 'committed', rowCount: 1 });
  const pull = seen.find((r) => r.request.endsWith('/sync/pull'))!;
  expect(pull.phases).not.toContain('pulling');
  expect(phases()).toEqual(['idle', 'pushing', 'pulling', 'idle']);
  const last = events.at(-1);
  expect(last).toMatchObject({ type: 'status', status: { phase: 'idle', pendingCount: 0 } });
  await nextTask();
  expect(events.at(-1)).toBe(last);
  await s.engine.close();
});
