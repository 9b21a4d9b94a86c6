/**
 * `WORKERS=2 server/reference/main.ts` on PostgreSQL: two processes serve one port (node:cluster).
 * Connections are spread over both; a push committed through one process wakes a watch stream held
 * by the other; a worker killed with SIGKILL is replaced while the port keeps answering; SIGTERM
 * stops everything with exit 0. Without DATABASE_URL, WORKERS > 1 is refused (PGlite is one
 * process's database).
 */
import { request } from 'node:http';
import { afterAll, expect, it } from 'vitest';
import { HARNESS_JWT_SECRET, signHarnessToken } from '../harness/sync-server.ts';
import { createTestDatabase, TEST_DB_KIND } from '../harness/test-database.ts';
import type { TestDatabase } from '../harness/test-database.ts';
import { SseReader } from '../harness/sse-reader.ts';
import { startReferenceProcess } from './fixtures/reference-process.ts';
import type { ReferenceProcess } from './fixtures/reference-process.ts';

let testDb: TestDatabase | undefined;
let server: ReferenceProcess | undefined;
afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  await testDb?.drop();
});

const headers = (user: string, source: string): Record<string, string> => ({
  Authorization: `Bearer ${signHarnessToken(user)}`,
  'Oversync-Source-ID': source,
});

/** One request on a connection of its own (the cluster hands out connections, not requests). */
function freshConnection(url: string, init: { method?: string; headers: Record<string, string>; body?: string }): Promise<number> {
  return answer(url, init).then((a) => a.status);
}

function answer(
  url: string,
  init: { method?: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', agent: false, headers: { ...init.headers, Connection: 'close', 'Content-Type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

const workerPids = (lines: string[]): Set<string> =>
  new Set(lines.map((l) => /^\[worker (\d+)\] oversqlite reference server on/.exec(l)?.[1]).filter((p): p is string => p !== undefined));

it.skipIf(TEST_DB_KIND !== 'postgres')(
  'WORKERS=2 on PostgreSQL: one port, both processes serve, watch wakes across them, a killed worker is replaced',
  async () => {
    testDb = await createTestDatabase('workers');
    server = await startReferenceProcess({ WORKERS: '2', DATABASE_URL: testDb.connectionString!, JWT_SECRET: HARNESS_JWT_SECRET });
    const s = server;
    await s.waitForLine(/^\[worker \d+\] oversqlite reference server on/);
    while (workerPids(s.lines).size < 2)
      await s.waitForLine(new RegExp(`^\\[worker (?!${[...workerPids(s.lines)].join('|')})\\d+\\] oversqlite reference server on`));
    const pids = [...workerPids(s.lines)];

    // 20 connections: both processes answer some.
    for (let i = 0; i < 20; i++)
      expect(await freshConnection(`${s.url}/sync/capabilities`, { headers: headers('wendy', 'probe') })).toBe(200);
    const served = (pid: string): number => s.lines.filter((l) => l.startsWith(`[worker ${pid}] GET /sync/capabilities 200`)).length;
    expect(pids.map(served).every((n) => n > 0)).toBe(true);

    // A watch stream on some process; pushes on fresh connections (each to the next process) wake it.
    expect(
      await freshConnection(`${s.url}/sync/connect`, {
        method: 'POST',
        headers: headers('wendy', 'dev-a'),
        body: '{"has_local_pending_rows":false}',
      }),
    ).toBe(200);
    const watch = await fetch(`${s.url}/sync/watch?after_bundle_seq=0`, { headers: headers('wendy', 'dev-b') });
    expect(watch.status).toBe(200);
    const reader = new SseReader(watch.body!.getReader());
    // Commits until two have run in different processes (the primary hands connections round-robin,
    // but not strictly alternating under load): each wakes the one watch stream.
    const commitPids = (): Set<string | undefined> =>
      new Set(s.lines.filter((l) => / POST \/sync\/push-sessions\/\S+\/commit 200/.test(l)).map((l) => /^\[worker (\d+)\]/.exec(l)?.[1]));
    for (let n = 1; n <= 12 && commitPids().size < 2; n++) {
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      const rows = [
        {
          schema: 'business',
          table: 'projects',
          key: { id },
          op: 'INSERT',
          base_row_version: 0,
          payload: { id, name: `p${n}`, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' },
        },
      ];
      // Three connections per push (create, chunk, commit): consecutive commits land on different processes.
      const created = await answer(`${s.url}/sync/push-sessions`, {
        method: 'POST',
        headers: headers('wendy', 'dev-a'),
        body: JSON.stringify({ source_bundle_id: n, planned_row_count: 1 }),
      });
      expect(created.status).toBe(200);
      const { push_id: pushId } = JSON.parse(created.body) as { push_id: string };
      expect(
        await freshConnection(`${s.url}/sync/push-sessions/${pushId}/chunks`, {
          method: 'POST',
          headers: headers('wendy', 'dev-a'),
          body: JSON.stringify({ start_row_ordinal: 0, rows }),
        }),
      ).toBe(200);
      expect(
        await freshConnection(`${s.url}/sync/push-sessions/${pushId}/commit`, { method: 'POST', headers: headers('wendy', 'dev-a') }),
      ).toBe(200);
      expect((await reader.nextBundle())?.bundle_seq).toBe(n);
    }
    await reader.cancel();
    // Commits ran in both processes, so at least one woke a stream held by the other process.
    expect(commitPids().size).toBe(2);

    // SIGKILL one worker: the primary starts another; the port keeps answering.
    process.kill(Number(pids[0]), 'SIGKILL');
    await s.waitForLine(new RegExp(`worker ${pids[0]} exited \\(SIGKILL\\); starting another`));
    while (workerPids(s.lines).size < 3)
      await s.waitForLine(new RegExp(`^\\[worker (?!${[...workerPids(s.lines)].join('|')})\\d+\\] oversqlite reference server on`));
    for (let i = 0; i < 6; i++)
      expect(await freshConnection(`${s.url}/sync/capabilities`, { headers: headers('wendy', 'probe') })).toBe(200);

    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  },
  120_000,
);

it('refuses WORKERS > 1 without DATABASE_URL', async () => {
  await expect(startReferenceProcess({ WORKERS: '2', PGLITE_DIR: 'memory://' })).rejects.toThrow(/WORKERS > 1 needs DATABASE_URL/);
});
