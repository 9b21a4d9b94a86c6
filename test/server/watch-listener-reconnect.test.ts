// The watch hub survives losing its LISTEN connection: it reconnects with backoff and a bundle
// committed around the outage still reaches the open stream (as a NOTIFY or as the catch-up
// event published after reconnecting).
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SseReader } from '../harness/sse-reader.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'watch_reconnect', watch: { enabled: true, heartbeatMs: 60_000 } });
});
afterAll(() => h?.close());

it.skipIf(TEST_DB_KIND === 'pglite')('delivers a bundle committed after the listener connection was killed', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('ursula'), 'phone');
  await dev.connect(false);
  const res = await fetch(`${h.baseUrl}/sync/watch?after_bundle_seq=0`, { headers: dev.headers() });
  const reader = new SseReader(res.body!.getReader());
  const admin = new pg.Client({ connectionString: h.testDatabase.connectionString! });
  await admin.connect();
  try {
    const killed = await admin.query(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
    );
    expect(killed.rows.length).toBe(1);
  } finally {
    await admin.end();
  }
  const committed = await h.server.writeAs('ursula', 'server:x', (tx) =>
    tx.query(`INSERT INTO business.tags (name) VALUES ('after-outage')`),
  );
  const event = await reader.nextBundle();
  expect(event?.bundle_seq).toBe(committed.bundle.bundle_seq);
  await reader.cancel();
});
