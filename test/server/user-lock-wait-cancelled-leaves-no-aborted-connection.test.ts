// A request whose wait for the user's lock (in the BEGIN script of its transaction) fails —
// here cancelled, as a statement_timeout or an operator would — answers an error, and its
// connection goes back to the pool clean, not in that failed transaction: the user's next
// requests, on the same pooled connections, succeed.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { eventually, tagRow } from './support/piecewise-snapshot.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'user_lock_wait_cancelled', onInternalError: () => {} });
});
afterAll(() => h?.close());

async function count(sql: string): Promise<number> {
  return (await h.database.query<{ n: number }>(sql)).rows[0]!.n;
}

it.skipIf(TEST_DB_KIND !== 'postgres')('answers an error and returns a clean connection to the pool', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('waiter'), 'device-1');
  expect((await dev.connect(false)).status).toBe(200);
  const holder = new pg.Client({ connectionString: h.testDatabase.connectionString! });
  await holder.connect();
  try {
    await holder.query(`BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('waiter', 0))`);
    const pushing = dev.push(1, [tagRow('t-1', 1, 'INSERT', 0)]);
    const waiting = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()
                        AND wait_event_type = 'Lock' AND query LIKE 'BEGIN;%pg_advisory_xact_lock%'`;
    await eventually(async () => (await count(waiting)) > 0);
    await h.database.query(
      `SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database()
          AND wait_event_type = 'Lock' AND query LIKE 'BEGIN;%pg_advisory_xact_lock%'`,
    );
    expect((await pushing).status).not.toBe(200);
    await holder.query('COMMIT');
    expect(
      await count(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction (aborted)'`,
      ),
    ).toBe(0);
    for (let i = 0; i < 3; i++) expect((await dev.push(i + 1, [tagRow(`t-${i}`, i, 'INSERT', 0)])).status).toBe(200);
  } finally {
    await holder.end();
  }
});
