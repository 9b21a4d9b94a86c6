/**
 * A conflict resolution applied to the frozen bundle in place is durable: the connection dies on
 * the retry right after the resolution, the engine is dropped, and a new engine over the same
 * database sends the revised bundle (its row count and request hash follow the revision) without
 * meeting the conflict again. Against the real server: two conflicting rows, one resolved by
 * taking the server's row (its frozen row removed), one kept local (revised on the server's
 * version); PostgreSQL ends with the backlog, the resolved rows as decided, nothing pending.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConflictEventDetail } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ purpose: 'conflict_in_place_restart' });
});
afterAll(() => world?.close());

it('sends the revised frozen bundle after a restart, without the resolved conflict again', async () => {
  const user = 'in-place-restart';
  const a = await world.device(user);
  let commits = 0;
  let cutAfterConflict = true;
  const resolve = (c: { key: string }) => (c.key === 'c-0' ? { keep: 'server' as const } : { keep: 'local' as const });
  const b = await world.device(user, {
    conflicts: resolve,
    pushChunkRows: 10,
    retry: { attempts: 1 },
    fetch: async (input, init) => {
      const path = new URL(String(input)).pathname;
      // The create that follows the first resolution never gets its answer.
      if (cutAfterConflict && commits === 1 && path.endsWith('/sync/push-sessions')) {
        cutAfterConflict = false;
        await (await fetch(input, init)).text();
        throw new TypeError('connection lost');
      }
      if (path.endsWith('/commit')) commits++;
      return fetch(input, init);
    },
  });
  await a.engine.attach(user);
  a.db.exec("INSERT INTO tags(name, color) VALUES ('c-0', 'grey'), ('c-1', 'grey')");
  await a.engine.sync();
  await b.engine.attach(user);
  await b.engine.sync();
  a.db.exec("UPDATE tags SET color = 'red'");
  await a.engine.sync();
  b.db.transaction(() => {
    for (let i = 0; i < 40; i++) b.db.exec({ sql: 'INSERT INTO tags(name, color) VALUES (?, ?)', bind: [`p-${i}`, 'blue'] });
    b.db.exec("UPDATE tags SET color = 'green' WHERE name LIKE 'c-%'");
  });
  const events: ConflictEventDetail[] = [];
  b.engine.subscribe((e) => e.type === 'conflict' && events.push(e.conflict));

  await expect(b.engine.pushPending()).rejects.toMatchObject({ code: 'network_error' });
  expect(events.map((e) => [e.key, e.resolution])).toEqual([['c-0', 'server']]);
  expect(Number(b.db.selectValue('SELECT row_count FROM _sync_outbox_bundle'))).toBe(41);
  expect(Number(b.db.selectValue('SELECT COUNT(*) FROM _sync_outbox_rows'))).toBe(41);
  await b.engine.close();

  const again = await b.reopen({ fetch: undefined, retry: undefined });
  again.subscribe((e) => e.type === 'conflict' && events.push(e.conflict));
  const res = await again.pushPending();
  expect(res).toMatchObject({ outcome: 'committed', rowCount: 41, conflicts: 1 });
  expect(events.map((e) => [e.key, e.resolution])).toEqual([
    ['c-0', 'server'],
    ['c-1', 'local'],
  ]);
  expect(again.status.pendingCount).toBe(0);

  await a.engine.sync();
  const conflicted = (rows: Record<string, unknown>[]) => rows.filter((r) => String(r.name).startsWith('c-')).map((r) => [r.name, r.color]);
  expect(conflicted(localRows(b.db, 'tags', 'name'))).toEqual([
    ['c-0', 'red'],
    ['c-1', 'green'],
  ]);
  expect(localRows(a.db, 'tags', 'name')).toEqual(localRows(b.db, 'tags', 'name'));
  const pg = await pgRows(world, 'tags', user, 'name');
  expect(pg).toHaveLength(42);
  expect(conflicted(pg)).toEqual([
    ['c-0', 'red'],
    ['c-1', 'green'],
  ]);
});
