/**
 * A fresh device hydrates from a snapshot the server answered before building it all (server
 * `snapshotBuildPieceRows`): its chunk requests in flight wait for the pieces they need (the
 * build is held at the tasks table by a real lock), and the device ends with every row.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TEST_DB_KIND } from '../harness/test-database.ts';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ limits: { snapshotBuildPieceRows: 100 } });
});
afterAll(() => world?.close());

it.skipIf(TEST_DB_KIND !== 'postgres')('waits for the pieces and hydrates every row', async () => {
  const a = await world.device('mira');
  await a.engine.attach('mira');
  a.db.transaction(() => {
    a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Mira')`);
    for (let p = 0; p < 300; p++)
      a.db.exec(`INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(1000 + p)}', '${uuid(1)}', 'p${p}')`);
    for (let t = 0; t < 400; t++)
      a.db.exec({
        sql: 'INSERT INTO tasks(id, project_id, title) VALUES (?, ?, ?)',
        bind: [uuid(100_000 + t), uuid(1000 + (t % 300)), `t${t}`],
      });
  });
  expect(await a.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 701 });

  // Projects (1–300) come first and are built at once; the tasks (301–700) wait for the lock.
  const lock = new pg.Client({ connectionString: world.server.testDatabase.connectionString! });
  await lock.connect();
  await lock.query('BEGIN; LOCK TABLE business.tasks IN ACCESS EXCLUSIVE MODE');
  const b = await world.device('mira', { snapshotChunkRows: 50 });
  const progress: number[] = [];
  b.engine.subscribe(
    (e) => e.type === 'status' && e.status.phase === 'hydrating' && e.status.progress && progress.push(e.status.progress.done),
  );
  const attached = b.engine.attach('mira');
  try {
    // Every project arrives while the tasks' piece waits on the lock (never a task: the lock holds).
    for (const end = Date.now() + 10_000; progress.at(-1) !== 300 && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    expect(progress.at(-1)).toBe(300);
  } finally {
    await lock.query('COMMIT');
    await lock.end();
  }
  expect(await attached).toMatchObject({ outcome: 'used_remote_state', snapshotRows: 701 });
  expect(Number(b.db.selectValue('SELECT COUNT(*) FROM tasks'))).toBe(400);
  expect(Number(b.db.selectValue('SELECT COUNT(*) FROM projects'))).toBe(300);
  expect(foreignKeyViolations(b.db)).toBe(0);
  expect(progress.at(-1)).toBe(701);
});
