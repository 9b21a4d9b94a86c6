/**
 * A device back from a long offline period pushes a backlog of 400 rows, 6 of which another device
 * changed meanwhile. The server reports one conflict per attempt, so the push takes 7 rounds; each
 * resolution here touches only its own row (server row adopted, local kept, merged), so it is
 * applied to the frozen bundle in place and the same bundle goes again: no round gives the
 * backlog back to the dirty set to freeze it anew (that cost ~1 s per round at 20,000 rows,
 * BENCHMARKS.md session 15). Requests are counted through the engine's `fetch` option, writes to
 * the dirty set by a temporary trigger. Checks the final state on both devices and in PostgreSQL.
 * On the code before, every round requeued the 400 rows (the trigger counted 2,391 writes).
 * Deletes of rows nothing references (tags) stay in place too: the server's delete adopted, a
 * deleted row re-created by keeping the local edit, a resolver's delete pushed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConflictEventDetail, ConflictResolution, ConflictResolver } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ purpose: 'conflict_backlog' });
});
afterAll(() => world?.close());

const BACKLOG = 400;
const CONFLICTS = 6;
const tag = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(4, '0')}`;

it('resolves each conflict of a large backlog in the frozen bundle and sends that bundle again', async () => {
  const user = 'backlog-user';
  const a = await world.device(user);
  const requests: string[] = [];
  // Conflicting tags alternate: the server's row, the local row, a merge (local color, server weight).
  const resolver: ConflictResolver = (c) => {
    const i = Number(c.key.slice(2));
    if (i % 3 === 0) return { keep: 'server' };
    if (i % 3 === 1) return { keep: 'local' };
    return { row: { ...c.serverRow, color: (c.localRow as { color: string }).color } };
  };
  const b = await world.device(user, {
    conflicts: resolver,
    pushChunkRows: 100,
    fetch: (input, init) => {
      const path = new URL(String(input)).pathname;
      if (path.includes('/sync/push-sessions'))
        requests.push(`${init?.method ?? 'GET'} ${path.replace(/push-sessions\/[^/]+/, 'push-sessions/:id')}`);
      return fetch(input, init);
    },
  });
  await a.engine.attach(user);
  a.db.transaction(() => {
    for (let i = 0; i < CONFLICTS; i++)
      a.db.exec({ sql: 'INSERT INTO tags(name, color, weight) VALUES (?, ?, ?)', bind: [tag('c', i), 'grey', i] });
    a.db.exec("INSERT INTO tags(name, color, weight) VALUES ('d-0000', 'grey', 0)");
  });
  await a.engine.sync();
  await b.engine.attach(user);
  await b.engine.sync();
  a.db.exec("UPDATE tags SET color = 'red', weight = weight + 100 WHERE name LIKE 'c-%'");
  await a.engine.sync();

  // B, offline meanwhile: a backlog of inserts with an edit of each tag A changed among them, and a delete.
  b.db.transaction(() => {
    // A pending delete in the bundle: an adopted server row could follow a deleted parent, so each
    // adoption checks its references, and (none broken) still stays in place.
    b.db.exec("DELETE FROM tags WHERE name = 'd-0000'");
    for (let i = 0; i < BACKLOG - CONFLICTS - 1; i++) {
      b.db.exec({ sql: 'INSERT INTO tags(name, color, weight) VALUES (?, ?, ?)', bind: [tag('p', i), 'blue', i] });
      if (i % 60 === 30) b.db.exec({ sql: "UPDATE tags SET color = 'green', weight = -1 WHERE name = ?", bind: [tag('c', (i - 30) / 60)] });
    }
  });
  expect(b.engine.status.pendingCount).toBe(BACKLOG);
  b.db.exec('CREATE TEMP TABLE dirty_writes(n INTEGER NOT NULL); INSERT INTO dirty_writes VALUES (0)');
  b.db.exec('CREATE TEMP TRIGGER count_dirty_writes AFTER INSERT ON main._sync_dirty_rows BEGIN UPDATE dirty_writes SET n = n + 1; END');
  const events: ConflictEventDetail[] = [];
  b.engine.subscribe((e) => e.type === 'conflict' && events.push(e.conflict));
  requests.length = 0;

  const res = await b.engine.sync();

  expect(res.push).toMatchObject({ outcome: 'committed', rowCount: BACKLOG - 2, conflicts: CONFLICTS });
  expect(events.map((e) => [e.key, e.resolution])).toEqual([
    [tag('c', 0), 'server'],
    [tag('c', 1), 'local'],
    [tag('c', 2), 'merged'],
    [tag('c', 3), 'server'],
    [tag('c', 4), 'local'],
    [tag('c', 5), 'merged'],
  ]);
  // One round per conflict plus the one that commits; every round sends the bundle as it stands.
  const rounds = CONFLICTS + 1;
  expect(requests.filter((r) => r === 'POST /sync/push-sessions')).toHaveLength(rounds);
  expect(requests.filter((r) => r === 'POST /sync/push-sessions/:id/commit')).toHaveLength(rounds);
  // 400 rows in chunks of 100 while every row is there; 4 chunks still once two are gone.
  expect(requests.filter((r) => r === 'POST /sync/push-sessions/:id/chunks')).toHaveLength(4 * rounds);
  expect(Number(b.db.selectValue('SELECT n FROM dirty_writes'))).toBe(0);
  expect(b.engine.status.pendingCount).toBe(0);

  await a.engine.sync();
  const want = Array.from({ length: CONFLICTS }, (_, i) =>
    i % 3 === 0
      ? { name: tag('c', i), color: 'red', weight: i + 100 }
      : i % 3 === 1
        ? { name: tag('c', i), color: 'green', weight: -1 }
        : { name: tag('c', i), color: 'green', weight: i + 100 },
  );
  const conflicted = (rows: Record<string, unknown>[]) =>
    rows.filter((r) => String(r.name).startsWith('c-')).map((r) => ({ name: r.name, color: r.color, weight: Number(r.weight) }));
  expect(conflicted(localRows(b.db, 'tags', 'name'))).toEqual(want);
  expect(localRows(a.db, 'tags', 'name')).toEqual(localRows(b.db, 'tags', 'name'));
  const pg = await pgRows(world, 'tags', user, 'name');
  expect(pg).toHaveLength(BACKLOG - 1);
  expect(pg.some((r) => r.name === 'd-0000')).toBe(false);
  expect(conflicted(pg)).toEqual(want);
});

it('takes deletes of rows nothing references in the frozen bundle too', async () => {
  const user = 'backlog-deletes';
  const a = await world.device(user);
  const requests: string[] = [];
  const decisions: Record<string, ConflictResolution> = {
    'c-0000': { keep: 'server' },
    'c-0001': { keep: 'local' },
    'c-0002': { delete: true },
    'c-0003': { keep: 'server' },
  };
  const b = await world.device(user, {
    conflicts: (c) => decisions[c.key]!,
    pushChunkRows: 100,
    fetch: (input, init) => {
      if (new URL(String(input)).pathname.endsWith('/commit')) requests.push('commit');
      return fetch(input, init);
    },
  });
  await a.engine.attach(user);
  a.db.transaction(() => {
    for (let i = 0; i < 4; i++)
      a.db.exec({ sql: 'INSERT INTO tags(name, color, weight) VALUES (?, ?, ?)', bind: [tag('c', i), 'grey', i] });
  });
  await a.engine.sync();
  await b.engine.attach(user);
  await b.engine.sync();
  // A deletes two of them and edits the other two.
  a.db.exec("DELETE FROM tags WHERE name IN ('c-0000', 'c-0001'); UPDATE tags SET color = 'red'");
  await a.engine.sync();
  b.db.transaction(() => {
    for (let i = 0; i < 196; i++)
      b.db.exec({ sql: 'INSERT INTO tags(name, color, weight) VALUES (?, ?, ?)', bind: [tag('p', i), 'blue', i] });
    b.db.exec("UPDATE tags SET color = 'green' WHERE name LIKE 'c-%'");
  });
  b.db.exec('CREATE TEMP TABLE dirty_writes(n INTEGER NOT NULL); INSERT INTO dirty_writes VALUES (0)');
  b.db.exec('CREATE TEMP TRIGGER count_dirty_writes AFTER INSERT ON main._sync_dirty_rows BEGIN UPDATE dirty_writes SET n = n + 1; END');
  const events: ConflictEventDetail[] = [];
  b.engine.subscribe((e) => e.type === 'conflict' && events.push(e.conflict));

  const res = await b.engine.sync();

  expect(res.push).toMatchObject({ outcome: 'committed', rowCount: 198, conflicts: 4 });
  expect(events.map((e) => [e.key, e.serverDeleted, e.resolution])).toEqual([
    ['c-0000', true, 'server'],
    ['c-0001', true, 'local'],
    ['c-0002', false, 'delete'],
    ['c-0003', false, 'server'],
  ]);
  expect(requests).toHaveLength(5);
  expect(Number(b.db.selectValue('SELECT n FROM dirty_writes'))).toBe(0);
  expect(b.engine.status.pendingCount).toBe(0);
  await a.engine.sync();
  const conflicted = (rows: Record<string, unknown>[]) =>
    rows.filter((r) => String(r.name).startsWith('c-')).map((r) => ({ name: r.name, color: r.color }));
  const want = [
    { name: 'c-0001', color: 'green' },
    { name: 'c-0003', color: 'red' },
  ];
  expect(conflicted(localRows(b.db, 'tags', 'name'))).toEqual(want);
  expect(localRows(a.db, 'tags', 'name')).toEqual(localRows(b.db, 'tags', 'name'));
  const pg = await pgRows(world, 'tags', user, 'name');
  expect(pg).toHaveLength(198);
  expect(conflicted(pg)).toEqual(want);
});
