/**
 * B (offline) edits project P and adds a task under it; A deletes P. B's push conflicts on P and
 * server-wins deletes P locally, which cascades to B's new task. The task's pending insert is
 * settled in the resolution's transaction (a no-op now, reported as a `lost` event, reason
 * `cascade`), so the re-formed push commits at once: no push the server has to refuse.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncEvent } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, startWorld, uuid } from './support/devices.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('a server-wins delete settles the pending children it cascaded away', async () => {
  const refusedCommits: number[] = [];
  const counting: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (String(input instanceof Request ? input.url : input).endsWith('/commit') && res.status >= 400 && res.status !== 409)
      refusedCommits.push(res.status); // 409: the conflict itself
    return res;
  };
  const { a, b } = await syncedDevicePair(world, 'cora', {
    seedSql: `INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U');
              INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'P')`,
    b: { fetch: counting },
  });

  a.db.exec(`DELETE FROM projects WHERE id = '${uuid(10)}'`);
  await a.engine.sync();
  b.db.exec(`UPDATE projects SET title = 'P edited on B' WHERE id = '${uuid(10)}';
             INSERT INTO tasks(id, project_id, title) VALUES ('${uuid(20)}', '${uuid(10)}', 'new on B');
             INSERT INTO tags(name, color) VALUES ('kept', 'red')`);
  const events: SyncEvent[] = [];
  b.engine.subscribe((e) => {
    if (e.type === 'lost' || e.type === 'conflict' || e.type === 'error') events.push(e);
  });
  const res = await b.engine.sync();
  expect(res.push.outcome).toBe('committed');
  expect(refusedCommits).toEqual([]);
  expect(events.map((e) => e.type)).toEqual(['lost', 'conflict']);
  expect(events[0]).toEqual({
    type: 'lost',
    lost: {
      table: 'tasks',
      key: uuid(20),
      reason: 'cascade',
      localOp: 'INSERT',
      row: {
        id: uuid(20),
        project_id: uuid(10),
        title: 'new on B',
        done: 0,
        priority: null,
        estimate_hours: null,
        attachment: null,
        due_at: null,
      },
    },
  });
  expect(b.engine.status.pendingCount).toBe(0);
  await a.engine.sync();
  for (const d of [a, b]) {
    expect(localRows(d.db, 'projects')).toEqual([]);
    expect(localRows(d.db, 'tasks')).toEqual([]);
    expect(localRows(d.db, 'tags', 'name').map((r) => r.name)).toEqual(['kept']);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
  expect((await pgRows(world, 'tags', 'cora', 'name')).map((r) => r.name)).toEqual(['kept']);
});
