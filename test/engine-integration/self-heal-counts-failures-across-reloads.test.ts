/**
 * The self-heal's failure streak is durable: a PWA or a discarded tab is reopened between failing
 * syncs, and each session may fail only once or twice. Here the device fails the same pull twice,
 * is reopened (a new engine over the same database) after each failure, and the third failing
 * sync, in the third session, heals it. A success in between, a different cause, or a detach
 * starts the count again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncEngine, SyncEvent } from '../../worker/engine/index.ts';
import { withCaptureSuppressed } from '../../worker/engine/capture.ts';
import type { Device, World } from './support/devices.ts';
import { foreignKeyViolations, localRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

async function failingSync(engine: SyncEngine): Promise<string | undefined> {
  return engine.sync().then(
    () => undefined,
    (e: unknown) => (e as { code: string }).code,
  );
}

/** A reload: the engine closes, a new one opens over the same database. */
async function reload(d: Device, engine: SyncEngine): Promise<SyncEngine> {
  await engine.close();
  return d.reopen();
}

/** Damage A so that every pull of B's next bundle fails (a parent gone behind the engine's back). */
async function breakPulls(a: Device, b: Device, user: string): Promise<void> {
  await a.engine.attach(user);
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U')`);
  await a.engine.sync();
  await b.engine.attach(user);
  await b.engine.sync();
  withCaptureSuppressed(a.db, () => a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`));
  b.db.exec(`INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'from B')`);
  await b.engine.sync();
}

it('failures in separate sessions add up to the threshold, and the third session heals', async () => {
  const a = await world.device('rhea', { selfHealAfter: 3 });
  const b = await world.device('rhea');
  await breakPulls(a, b, 'rhea');

  let engine = a.engine;
  expect(await failingSync(engine)).toBe('apply_failed');
  engine = await reload(a, engine);
  expect(await failingSync(engine)).toBe('apply_failed');
  engine = await reload(a, engine);
  const events: SyncEvent[] = [];
  engine.subscribe((e) => {
    if (e.type === 'self_heal') events.push(e);
  });
  expect(await failingSync(engine)).toBeUndefined();
  expect(events).toEqual([{ type: 'self_heal', selfHeal: expect.objectContaining({ step: 'pull', failures: 3 }) }]);
  expect(localRows(a.db, 'projects').map((r) => r.title)).toEqual(['from B']);
  expect(foreignKeyViolations(a.db)).toBe(0);
  expect(a.db.selectValue('SELECT COUNT(*) FROM _sync_failure_streak')).toBe(0);
});

it('a success, another cause or a detach in between starts the count again', async () => {
  const a = await world.device('selma', { selfHealAfter: 3 });
  const b = await world.device('selma');
  await breakPulls(a, b, 'selma');
  const streak = (): unknown => a.db.selectValue('SELECT failures FROM _sync_failure_streak');

  let engine = a.engine;
  expect(await failingSync(engine)).toBe('apply_failed');
  expect(streak()).toBe(1);
  engine = await reload(a, engine);
  expect(await failingSync(engine)).toBe('apply_failed');
  expect(streak()).toBe(2);
  // Another cause noted last (as another session would have): the count restarts at 1.
  engine = await reload(a, engine);
  a.db.exec(`UPDATE _sync_failure_streak SET cause = 'push_commit_invalid' || char(0)`);
  expect(await failingSync(engine)).toBe('apply_failed');
  expect(streak()).toBe(1);
  // A success ends the streak: B's project is removed on the server, so the pull applies.
  b.db.exec(`DELETE FROM projects WHERE id = '${uuid(10)}'`);
  await b.engine.sync();
  engine = await reload(a, engine);
  expect(await failingSync(engine)).toBeUndefined();
  expect(streak()).toBeUndefined();
  // A detach forgets a streak: the next user starts from nothing.
  a.db.exec(`INSERT INTO _sync_failure_streak(singleton_key, step, cause, failures) VALUES (1, 'pull', 'apply_failed' || char(0), 2)`);
  expect((await engine.detach({ force: true })).outcome).toBe('detached');
  expect(streak()).toBeUndefined();
});
