// The sweep that found the crash, on the real `npm run server` process (server/reference/main.ts as a
// child, on PostgreSQL): eight pull loops and two push loops run while every backend of its
// database is killed three times. The process stays up (it used to exit 1 with "Unhandled 'error'
// event … Connection terminated unexpectedly"), every answer is 2xx or the retryable
// 503 database_unavailable, and each push commits exactly once.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFreshDatabase } from '../server-edges/fixtures/postgres-database.ts';
import type { FreshDatabase } from '../server-edges/fixtures/postgres-database.ts';
import { startReferenceProcess } from '../server-edges/fixtures/reference-process.ts';
import type { ReferenceProcess } from '../server-edges/fixtures/reference-process.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import type { RawResponse } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

const enabled = TEST_DB_KIND === 'postgres';
let database: FreshDatabase;
let server: ReferenceProcess;
beforeAll(async () => {
  if (!enabled) return;
  database = await createFreshDatabase('fault_reference_kills');
  server = await startReferenceProcess({ DATABASE_URL: database.url, JWT_SECRET: 'fault-test-secret-0123456789abcdef' });
}, 60_000);
afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  await database?.drop();
});

async function token(user: string): Promise<string> {
  const r = await fetch(`${server.url}/dummy-signin`, { method: 'POST', body: JSON.stringify({ user, password: 'x' }) });
  return ((await r.json()) as { token: string }).token;
}

it.skipIf(!enabled)('stays up through three kills of every backend under pull and push load', { timeout: 90_000 }, async () => {
  const answers: Array<{ status: number; error?: string }> = [];
  const note = (r: RawResponse) => {
    answers.push({ status: r.status, error: typeof r.body === 'object' && r.body ? r.body.error : undefined });
    return r;
  };
  const pullers = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => new RawSyncClient(server.url, await token(`puller-${i % 2}`), `puller-${i}`)),
  );
  const pushers = await Promise.all(
    Array.from({ length: 2 }, async (_, i) => new RawSyncClient(server.url, await token(`pusher-${i}`), `pusher-${i}-phone`)),
  );
  for (const c of [...pullers, ...pushers]) expect(note(await c.connect(false)).status).toBe(200);

  let kills = 0;
  const pushed = new Map<string, number>();
  const loops = [
    ...pullers.map(async (c) => {
      while (kills < 3) note(await c.pull('?after_bundle_seq=0'));
    }),
    ...pushers.map(async (c, i) => {
      let n = 0;
      while (kills < 3) {
        n++;
        const rows = [
          {
            schema: 'business',
            table: 'projects',
            key: { id: crypto.randomUUID() },
            op: 'INSERT',
            base_row_version: 0,
            payload: { name: `p${n}` },
          },
        ];
        // A client's retry loop: 503 → again; a commit answered 404 after a 503 went through.
        for (;;) {
          const created = note(await c.createPush(n, 1, { canonical_request_hash: 'd'.repeat(64) }));
          if (created.status === 503) continue;
          if (created.body.status === 'already_committed') break;
          expect(created.status).toBe(200);
          const chunk = note(await c.chunk(created.body.push_id, 0, rows));
          if (chunk.status === 503) continue;
          const commit = note(await c.commit(created.body.push_id));
          if (commit.status === 200) break;
        }
      }
      pushed.set(`pusher-${i}-phone`, n);
    }),
  ];
  const killer = (async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      for (; kills < 3; kills++) {
        // Let load build up between kills: wait for 40 more answers.
        const target = answers.length + 40;
        while (answers.length < target) await new Promise((r) => setTimeout(r, 10));
        await admin.query(
          `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        );
      }
    } finally {
      await admin.end();
    }
  })();
  await Promise.all([...loops, killer]);

  expect(server.child.exitCode).toBeNull();
  expect(server.lines.filter((l) => /Unhandled|uncaught/i.test(l))).toEqual([]);
  const unexpected = answers.filter(
    (a) => !(a.status < 300 || (a.status === 503 && a.error === 'database_unavailable') || a.error === 'push_session_not_found'),
  );
  expect(unexpected).toEqual([]);
  const check = new pg.Client({ connectionString: database.url });
  await check.connect();
  try {
    const r = await check.query<{ source_id: string; n: number; max: number }>(
      `SELECT source_id, count(*)::int AS n, max(source_bundle_id)::int AS max FROM sync.bundle_log GROUP BY source_id ORDER BY source_id`,
    );
    for (const [source, n] of pushed) expect(r.rows.find((x) => x.source_id === source)).toEqual({ source_id: source, n, max: n });
  } finally {
    await check.end();
  }
  // Still serving after the storm.
  expect((await pullers[0]!.pull('?after_bundle_seq=0')).status).toBe(200);
});
