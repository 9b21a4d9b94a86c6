// Every connection of the server is killed at once (idle pool connections and the LISTEN
// connection) while a device watches: the process stays up, the watch stream stays open and
// delivers the next bundle (the hub re-LISTENs), and requests after the kill succeed or get the
// retryable 503, never anything else.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFaultServer, tagRows } from '../harness/fault-scenario.ts';
import type { FaultServer } from '../harness/fault-scenario.ts';
import { SseReader } from '../harness/sse-reader.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

let f: FaultServer;
beforeAll(async () => {
  if (TEST_DB_KIND === 'postgres') f = await startFaultServer('fault_all_backends');
});
afterAll(() => f?.h.close());

it.skipIf(TEST_DB_KIND === 'pglite')('keeps serving and the watch stream delivers the next bundle', async () => {
  const watcher = new RawSyncClient(f.h.baseUrl, f.h.tokenFor('ida'), 'ida-laptop');
  await watcher.connect(false);
  // Warm the pool so there are idle connections to kill.
  await Promise.all(Array.from({ length: 4 }, () => watcher.pull('?after_bundle_seq=0')));
  const res = await fetch(`${f.h.baseUrl}/sync/watch?after_bundle_seq=0`, { headers: watcher.headers() });
  expect(res.status).toBe(200);
  const reader = new SseReader(res.body!.getReader());

  const admin = new pg.Client({ connectionString: f.h.testDatabase.connectionString! });
  await admin.connect();
  try {
    const killed = await admin.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid, 5000) AS ok FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    expect(killed.rows.length).toBeGreaterThanOrEqual(2);
  } finally {
    await admin.end();
  }

  const phone = watcher.withSource('ida-phone');
  const statuses: number[] = [];
  let pushed = false;
  for (let attempt = 0; attempt < 5 && !pushed; attempt++) {
    const r = await phone.push(1, tagRows('ida', 2));
    statuses.push(r.status);
    if (r.status === 503) {
      expect(r.body.error).toBe('database_unavailable');
      continue;
    }
    expect(r.status).toBe(200);
    pushed = true;
  }
  expect(pushed).toBe(true);
  const event = await reader.nextBundle();
  expect(event?.bundle_seq).toBe(1);
  await reader.cancel();
});
