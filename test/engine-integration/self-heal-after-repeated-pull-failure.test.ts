/**
 * The last-resort self-heal, pull side. A device whose local state went wrong in a way no rule
 * covers (here: a parent row removed behind the engine's back, without a pending change or a
 * tombstone) refuses every pulled bundle that writes a child under it (`apply_failed`). After
 * `selfHealAfter` (3) failing syncs in a row, the third one rebuilds from a server snapshot with
 * the pending changes kept, syncs, and tells the app (`self_heal`): the device converges with no
 * manual step and its own unsynced change still reaches the server.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncEvent } from '../../worker/engine/index.ts';
import { withCaptureSuppressed } from '../../worker/engine/capture.ts';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, startWorld, uuid } from './support/devices.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('a pull that fails the same way three times rebuilds from a snapshot, keeping pending changes', async () => {
  const { a, b } = await syncedDevicePair(world, 'pia', {
    seedSql: `INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U')`,
    a: { selfHealAfter: 3 },
  });

  // Local damage: U disappears on A without the engine knowing (no intent, no tombstone).
  withCaptureSuppressed(a.db, () => a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`));
  b.db.exec(`INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'from B')`);
  await b.engine.sync();
  a.db.exec(`INSERT INTO tags(name, color) VALUES ('offline', 'green')`);

  const events: SyncEvent[] = [];
  a.engine.subscribe((e) => {
    if (e.type === 'lost' || e.type === 'self_heal') events.push(e);
  });
  for (let i = 0; i < 2; i++) {
    const err = await a.engine.sync().then(
      () => null,
      (e: unknown) => e as { code: string },
    );
    expect(err?.code).toBe('apply_failed');
  }
  await a.engine.sync();
  expect(a.engine.status.lastError).toBeNull();
  expect(a.engine.status.pendingCount).toBe(0);
  expect(events).toEqual([
    {
      type: 'self_heal',
      selfHeal: { cause: expect.objectContaining({ code: 'apply_failed' }), step: 'pull', failures: 3, droppedChanges: 0 },
    },
  ]);
  await b.engine.sync();
  for (const d of [a, b]) {
    expect(localRows(d.db, 'users').map((r) => r.name)).toEqual(['U']);
    expect(localRows(d.db, 'projects').map((r) => r.title)).toEqual(['from B']);
    expect(localRows(d.db, 'tags', 'name').map((r) => r.name)).toEqual(['offline']);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
  expect((await pgRows(world, 'tags', 'pia', 'name')).map((r) => r.name)).toEqual(['offline']);
});
