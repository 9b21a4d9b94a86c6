/**
 * The last-resort self-heal, push side. The server refuses a value the device's schema allows
 * (a CHECK constraint only PostgreSQL has), so every push of the bundle is rejected with the
 * same data-caused error. After `selfHealAfter` (3) failing syncs in a row the engine heals by
 * itself inside the third sync: snapshot rebuild keeping the pending changes, then, as the push
 * is still refused, the changes go up in parts; the one the server refuses on its own is dropped
 * (a `lost` event, reason `unsyncable`, with the row as SQLite stored it), every other change
 * reaches the server, and the app gets a `self_heal` event. No manual step; nothing else lost.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncEvent } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
  await world.server.database.query('ALTER TABLE business.tags ADD CONSTRAINT tag_color_short CHECK (length(color) < 10)');
});
afterAll(() => world?.close());

it('a change the server refuses every time is isolated and dropped with an event; the rest syncs', async () => {
  const a = await world.device('hela', { selfHealAfter: 3 });
  await a.engine.attach('hela');
  a.db.exec(`INSERT INTO tags(name, color, weight) VALUES ('good1', 'red', 1);
             INSERT INTO tags(name, color, weight) VALUES ('bad', 'a-color-name-far-too-long', 2);
             INSERT INTO tags(name, color, weight) VALUES ('good2', 'blue', 3);
             INSERT INTO users(id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'kept')`);
  const events: SyncEvent[] = [];
  a.engine.subscribe((e) => {
    if (e.type === 'lost' || e.type === 'self_heal') events.push(e);
  });

  for (let i = 0; i < 2; i++) {
    const err = await a.engine.sync().then(
      () => null,
      (e: unknown) => e as { code: string },
    );
    // The app can tell which row the server refused (our server names it).
    expect(a.engine.status.lastError?.rejected).toEqual({
      table: 'tags',
      key: 'bad',
      op: 'INSERT',
      reason: 'check_violation',
      columns: ['color'],
    });
    // Our server answers 400 push_commit_invalid (contracts dialect) or 500
    // push_session_commit_failed (go-oversync dialect): the engine goes by the class, not the code.
    expect(['push_commit_invalid', 'push_session_commit_failed']).toContain(err?.code);
    expect(a.engine.status.pendingCount).toBe(4);
  }
  // The third failure in a row heals inside the same call.
  await a.engine.sync();
  expect(a.engine.status.lastError).toBeNull();
  expect(a.engine.status.pendingCount).toBe(0);

  expect(events).toEqual([
    {
      type: 'lost',
      lost: {
        table: 'tags',
        key: 'bad',
        reason: 'unsyncable',
        row: { name: 'bad', color: 'a-color-name-far-too-long', weight: 2, meta: null },
        localOp: 'INSERT',
      },
    },
    {
      type: 'self_heal',
      selfHeal: {
        cause: expect.objectContaining({ code: expect.stringMatching(/^push_(commit_invalid|session_commit_failed)$/) }),
        step: 'push',
        failures: 3,
        droppedChanges: 1,
      },
    },
  ]);
  expect((await pgRows(world, 'tags', 'hela', 'name')).map((r) => r.name)).toEqual(['good1', 'good2']);
  expect((await pgRows(world, 'users', 'hela')).map((r) => r.name)).toEqual(['kept']);
  expect(localRows(a.db, 'tags', 'name').map((r) => r.name)).toEqual(['good1', 'good2']);
  expect(localRows(a.db, 'users').map((r) => r.name)).toEqual(['kept']);
});
