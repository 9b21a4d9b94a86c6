// Throughput: a 10,000-row push (create + 10 chunks of 1,000 + commit) over real HTTP into a
// table with uuid keys, an FK, and int8/float8/bool/text/timestamptz columns. Prints rows/s.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
const USER = randomUUID();
const PROJECT = randomUUID();
const ROWS = 10_000;

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_throughput' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('bench'), 'bench-device');
  await dev.connect(false);
  const seed = await dev.push(1, [
    {
      schema: 'business',
      table: 'users',
      key: { id: USER },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: USER, name: 'Bench', created_at: '2026-01-01T00:00:00Z' },
    },
    {
      schema: 'business',
      table: 'projects',
      key: { id: PROJECT },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: PROJECT, owner_id: USER, title: 'Bench', budget: '10.00', archived: '0' },
    },
  ]);
  expect(seed.status).toBe(200);
});
afterAll(() => h?.close());

function taskRows(n: number): PushRow[] {
  return Array.from({ length: n }, (_, i) => {
    const id = randomUUID();
    return {
      schema: 'business',
      table: 'tasks',
      key: { id },
      op: 'INSERT',
      base_row_version: 0,
      payload: {
        id,
        project_id: PROJECT,
        title: `task ${i} with a realistic title`,
        done: i % 2 ? '1' : '0',
        priority: String(i),
        estimate_hours: String(i / 4),
        attachment: null,
        due_at: '2026-06-01T12:00:00Z',
      },
    };
  });
}

it(`pushes ${ROWS} rows end to end and reports rows/s`, async () => {
  // Warm-up (JIT, plan caches) with a small bundle, not measured.
  expect((await dev.push(2, taskRows(500), 500)).status).toBe(200);
  const rows = taskRows(ROWS);
  const t0 = performance.now();
  const committed = await dev.push(3, rows, 1000);
  const ms = performance.now() - t0;
  expect(committed.status).toBe(200);
  expect(committed.body.row_count).toBe(ROWS);
  const rate = Math.round(ROWS / (ms / 1000));
  console.log(
    `[push-throughput] ${ROWS} rows (create + ${ROWS / 1000} chunks + commit over HTTP, ${h.testDatabase.kind}): ${ms.toFixed(0)} ms = ${rate} rows/s`,
  );
  const stored = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM business.tasks`);
  expect(stored.rows[0]!.n).toBe(ROWS + 500);
  // Replay of the committed bundle in 5,000-row pages.
  const t1 = performance.now();
  let after: number | null = null;
  let fetched = 0;
  for (;;) {
    const page = await dev.committedRows(committed.body.bundle_seq, `?max_rows=5000${after === null ? '' : `&after_row_ordinal=${after}`}`);
    fetched += page.body.rows.length;
    after = page.body.next_row_ordinal;
    if (!page.body.has_more) break;
  }
  expect(fetched).toBe(ROWS);
  console.log(`[push-throughput] committed-rows replay of ${ROWS} rows: ${(performance.now() - t1).toFixed(0)} ms`);
}, 120_000);

it(`pushes ${ROWS} rows into a table without foreign keys (text keys, int4/jsonb) and reports rows/s`, async () => {
  const rows: PushRow[] = Array.from({ length: ROWS }, (_, i) => {
    const name = `tag-${i}-${randomUUID()}`;
    return {
      schema: 'business',
      table: 'tags',
      key: { name },
      op: 'INSERT',
      base_row_version: 0,
      payload: { name, color: i % 3 ? 'blue' : null, weight: String(i), meta: { i, tags: ['a', 'b'] } },
    };
  });
  const t0 = performance.now();
  const committed = await dev.push(4, rows, 1000);
  const ms = performance.now() - t0;
  expect(committed.status).toBe(200);
  expect(committed.body.row_count).toBe(ROWS);
  console.log(
    `[push-throughput] ${ROWS} rows without FKs (${h.testDatabase.kind}): ${ms.toFixed(0)} ms = ${Math.round(ROWS / (ms / 1000))} rows/s`,
  );
}, 120_000);
