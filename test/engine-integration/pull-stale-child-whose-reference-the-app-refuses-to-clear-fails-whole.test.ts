/**
 * The stale-parent pass (`stale-parents.ts`) clears a pulled child's SET NULL reference to a
 * parent the device knows is deleted later on the server, as the server's own SET NULL did. When
 * the app's schema refuses that NULL (here a trigger: a team keeps its captain once it has one),
 * the pull fails whole with `apply_failed` carrying the app's message, exactly as it fails when
 * the server's cleared row itself arrives, and nothing of it is applied. It used to take any
 * refusal for a NOT NULL column and delete the row instead: the team went away locally (its
 * delete ran the app's own triggers and FK actions for a delete that never happened) and came
 * back with the next bundle's insert, past the app's rule.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, startWorld } from './support/devices.ts';
import { FK_WORLD, fkLocal, fkServer } from './support/fk-schema.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';
import type { SyncEvent } from '../../worker/engine/index.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld(FK_WORLD);
});
afterAll(() => world?.close());

it('a stale pulled child whose cleared reference the app refuses fails the pull whole, with the app’s message', async () => {
  const user = 'sable-refused';
  const { a, b } = await syncedDevicePair(world, user, {
    seedSql: `INSERT INTO teams(id, name) VALUES ('T1', 'team 1'), ('T2', 'team 2');
              INSERT INTO people(id, team_id, name) VALUES ('Q1', 'T1', 'person 1')`,
  });
  // B's app: a team never loses its captain once it has one.
  b.db.exec(
    'CREATE TRIGGER teams_keep_captain BEFORE UPDATE OF captain_id ON teams ' +
      "WHEN OLD.captain_id IS NOT NULL AND NEW.captain_id IS NULL BEGIN SELECT RAISE(ABORT, 'a team keeps its captain'); END",
  );
  const events: SyncEvent[] = [];
  b.engine.subscribe((e) => {
    if (e.type === 'lost') events.push(e);
  });

  // A, bundle s: Q1 becomes T2's captain. Bundle v: Q1 deleted (T2's captain cleared with it).
  a.db.exec(`UPDATE teams SET captain_id = 'Q1' WHERE id = 'T2'`);
  await a.engine.sync();
  a.db.exec(`DELETE FROM people WHERE id = 'Q1'`);
  await a.engine.sync();

  // B, still before bundle s, deletes Q1 too: its push conflicts with the server's delete, and B
  // learns Q1's tombstone at v before its pull brings bundle s (T2 under captain Q1).
  b.db.exec(`DELETE FROM people WHERE id = 'Q1'`);
  const before = fkLocal(b.db);
  const err = await b.engine.sync().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'apply_failed' });
  expect((err as Error).message).toContain('a team keeps its captain');
  // Nothing of the pull applied: B holds what it held (T2 still there, without a captain), and
  // no bundle past the conflict's was recorded.
  expect(fkLocal(b.db)).toEqual(before);
  expect(b.engine.status.checkpoint).toBeLessThan(a.engine.status.checkpoint);
  expect(foreignKeyViolations(b.db)).toBe(0);
  expect(events).toEqual([]);

  // The app drops its rule: the next sync converges on the server's state.
  b.db.exec('DROP TRIGGER teams_keep_captain');
  await b.engine.sync();
  const server = await fkServer(world, user);
  expect(server.teams).toEqual([
    { id: 'T1', captain_id: null, name: 'team 1' },
    { id: 'T2', captain_id: null, name: 'team 2' },
  ]);
  expect(server.people).toEqual([]);
  expect(fkLocal(b.db)).toEqual(server);
  expect(b.engine.status.checkpoint).toBe(a.engine.status.checkpoint);
  expect(b.engine.status.pendingCount).toBe(0);
  expect(events).toEqual([]);
});
