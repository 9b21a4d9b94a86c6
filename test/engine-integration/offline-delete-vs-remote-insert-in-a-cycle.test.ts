/**
 * A foreign-key cycle: teams.captain_id -> people (SET NULL), people.team_id -> teams (CASCADE).
 * A (offline) deletes team T. B adds person P to T, makes P T's captain, and syncs. The pulled
 * update of T is skipped (A's pending delete meets it as a conflict on push), the pulled P follows
 * T's fate as far as A can tell (CASCADE: dropped, a `lost` event). Then A's delete of T conflicts
 * with B's edit of T: client-wins deletes T (and P with it, by the server's cascade); server-wins
 * keeps T, and as P was dropped under it, T and P come back from a snapshot. Both converge.
 * Also: A (offline) deletes person Q, the captain of team U, while B renames U; the pulled U
 * still names Q as captain, so its reference is cleared as the server's SET NULL will.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, startWorld } from './support/devices.ts';
import { FK_WORLD, fkLocal, fkServer } from './support/fk-schema.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld(FK_WORLD);
});
afterAll(() => world?.close());

const CASES = [
  ['pull first', 'server-wins'],
  ['sync', 'server-wins'],
  ['pull first', 'client-wins'],
  ['sync', 'client-wins'],
] as const;

it.each(CASES)('offline deletes and remote inserts across an FK cycle converge (%s, %s)', async (order, conflicts) => {
  const user = `cyra-${order.replace(' ', '-')}-${conflicts}`;
  const { a, b } = await syncedDevicePair(world, user, {
    seedSql: `INSERT INTO teams(id, name) VALUES ('T', 'team t'), ('U', 'team u');
              INSERT INTO people(id, team_id, name) VALUES ('Q', 'U', 'captain q');
              UPDATE teams SET captain_id = 'Q' WHERE id = 'U'`,
    a: { conflicts },
    b: { conflicts },
  });

  a.db.exec(`DELETE FROM teams WHERE id = 'T'; DELETE FROM people WHERE id = 'Q'`);
  b.db.exec(`INSERT INTO people(id, team_id, name) VALUES ('P', 'T', 'new p');
             UPDATE teams SET captain_id = 'P' WHERE id = 'T';
             UPDATE teams SET name = 'team u renamed' WHERE id = 'U'`);
  await b.engine.sync();

  if (order === 'pull first') await a.engine.pullToStable();
  await a.engine.sync();
  await a.engine.sync();
  expect(a.engine.status.lastError).toBeNull();
  expect(a.engine.status.pendingCount).toBe(0);
  await b.engine.sync();

  const server = await fkServer(world, user);
  if (conflicts === 'server-wins') {
    expect(server.teams).toEqual([
      { id: 'T', captain_id: 'P', name: 'team t' },
      { id: 'U', captain_id: null, name: 'team u renamed' },
    ]);
    expect(server.people).toEqual([{ id: 'P', team_id: 'T', name: 'new p' }]);
  } else {
    // A's row of U (captain cleared by the local SET NULL, old name) wins over B's rename.
    expect(server.teams).toEqual([{ id: 'U', captain_id: null, name: 'team u' }]);
    expect(server.people).toEqual([]);
  }
  for (const d of [a, b]) {
    expect(fkLocal(d.db)).toEqual(server);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
});
