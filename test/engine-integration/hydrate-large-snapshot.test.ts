/**
 * A fresh device hydrates about a thousand FK-connected rows through a chunked snapshot (small
 * `max_rows` to force many chunks) with progress events, and ends with PostgreSQL's rows and FK
 * integrity. The push asks for 5,000-row chunks and is clamped to the server's advertised 500.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ limits: { maxRowsPerPushChunk: 500 } });
});
afterAll(() => world?.close());

it('hydrates 1,001 rows in chunks with progress', async () => {
  const a = await world.device('lena', { pushChunkRows: 5000 });
  await a.engine.attach('lena');
  a.db.transaction(() => {
    a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Lena')`);
    for (let p = 0; p < 4; p++) {
      a.db.exec(`INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(1000 + p)}', '${uuid(1)}', 'p${p}')`);
      for (let t = 0; t < 249; t++) {
        a.db.exec({
          sql: 'INSERT INTO tasks(id, project_id, title, priority) VALUES (?, ?, ?, ?)',
          bind: [uuid(100_000 + p * 1000 + t), uuid(1000 + p), `task ${p}/${t}`, BigInt(t) * 10_000_000_000n],
        });
      }
    }
  });
  const t0 = Date.now();
  const pushed = await a.engine.pushPending();
  const pushMs = Date.now() - t0;
  // A 5,000-row chunk would be rejected (push_chunk_invalid): success proves the clamp to 500.
  expect(pushed).toMatchObject({ outcome: 'committed', rowCount: 1001 });

  const b = await world.device('lena', { snapshotChunkRows: 100 });
  const progress: { done: number; total: number }[] = [];
  b.engine.subscribe((e) => e.type === 'status' && e.status.progress && e.status.phase === 'hydrating' && progress.push(e.status.progress));
  const t1 = Date.now();
  const res = await b.engine.attach('lena');
  const hydrateMs = Date.now() - t1;
  console.log(`push 1,001 rows: ${pushMs} ms; hydrate 1,001 rows in 100-row chunks: ${hydrateMs} ms`);
  expect(res).toMatchObject({ outcome: 'used_remote_state', snapshotRows: 1001 });
  expect(Number(b.db.selectValue('SELECT COUNT(*) FROM tasks'))).toBe(996);
  expect(foreignKeyViolations(b.db)).toBe(0);
  expect(progress.at(-1)).toEqual({ done: 1001, total: 1001 });
  expect(progress.length).toBeGreaterThanOrEqual(11);
  const sum = b.db.selectValue('SELECT CAST(SUM(priority) AS TEXT) FROM tasks');
  const sumA = a.db.selectValue('SELECT CAST(SUM(priority) AS TEXT) FROM tasks');
  expect(sum).toBe(sumA);
});
