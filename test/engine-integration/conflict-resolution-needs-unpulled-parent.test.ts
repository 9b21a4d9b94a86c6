/**
 * A conflict whose server row references a parent this device has not pulled yet: device A
 * creates user U and project P under U; device B, offline, creates project P (same key) under
 * another user. B's push conflicts; server-wins would write A's P locally, whose owner U is not
 * here yet, so the resolution cannot apply (`conflict_needs_pull`, nothing applied, nothing
 * lost). `sync()` pulls (bringing U, skipping the still-dirty P) and pushes again; now the
 * resolution applies, and both devices converge.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('resolves after pulling the missing parent, in one sync()', async () => {
  const a = await world.device('quinn');
  const calls: string[] = [];
  const b = await world.device('quinn', {
    fetch: (input, init) => {
      calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname.replace(/[0-9a-f-]{36}/g, ':id')}`);
      return fetch(input, init);
    },
  });
  await a.engine.attach('quinn');
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'shared user')`);
  await a.engine.sync();
  await b.engine.attach('quinn');

  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'new on A');
             INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(50)}', '${uuid(2)}', 'A''s project')`);
  await a.engine.sync();
  b.db.exec(`INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(50)}', '${uuid(1)}', 'B''s project')`);

  calls.length = 0;
  const errors: string[] = [];
  b.engine.subscribe((e) => e.type === 'error' && errors.push(e.error.code));
  const res = await b.engine.sync();
  expect(res.push).toMatchObject({ conflicts: 1 });
  expect(localRows(b.db, 'projects')).toEqual(localRows(a.db, 'projects'));
  expect(localRows(b.db, 'projects')[0]).toMatchObject({ owner_id: uuid(2), title: "A's project" });
  expect(localRows(b.db, 'users')).toEqual(localRows(a.db, 'users'));
  expect(foreignKeyViolations(b.db)).toBe(0);
  expect(b.engine.status.pendingCount).toBe(0);
  expect(errors).toEqual([]);
  // push (conflict, cannot apply) → pull → push (conflict, resolved) → pull; each push attempt
  // starts with a create (here the one-request push: create, rows and commit at once).
  expect(calls.filter((c) => c === 'POST /sync/push-sessions' || c === 'GET /sync/pull')).toEqual([
    'POST /sync/push-sessions',
    'GET /sync/pull',
    'POST /sync/push-sessions',
    'GET /sync/pull',
  ]);
  expect((await pgRows(world, 'projects', 'quinn'))[0]).toMatchObject({ title: "A's project" });
});
