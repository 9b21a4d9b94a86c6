// /syncx/status and /syncx/health report lifecycle and aggregates; close() drains in-flight
// work, ends watch streams, and answers 503 service_unavailable afterwards.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SseReader } from '../harness/sse-reader.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'status_health' });
});
afterAll(() => h?.close());

it('reports healthy status with aggregates', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('vera'), 'dev');
  await dev.connect(false);
  await dev.push(1, [{ schema: 'business', table: 'tags', key: { name: 'x' }, op: 'INSERT', base_row_version: 0, payload: { name: 'x' } }]);
  const health = await fetch(`${h.baseUrl}/syncx/health`);
  expect(health.status).toBe(200);
  const status = await (await fetch(`${h.baseUrl}/syncx/status`)).json();
  expect(status).toMatchObject({
    status: 'healthy',
    version: 'v1',
    app_name: 'oversqlite-harness',
    lifecycle: 'running',
    accepting_operations: true,
    registered_tables: ['business.projects', 'business.tags', 'business.tasks', 'business.users'],
    user_state_retention_floor_ahead_count: 0,
    latest_bundle_seq_max: 1,
    committed_bundle_count: 1,
  });
  expect(status.committed_bundle_bytes).toBeGreaterThan(50);
  expect(status.features.connect_lifecycle).toBe(true);
});

it('close() ends watch streams, then answers 503 and reports unhealthy', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('vera'), 'dev');
  const res = await fetch(`${h.baseUrl}/sync/watch?after_bundle_seq=1`, { headers: dev.headers() });
  const reader = new SseReader(res.body!.getReader());
  await h.server.close();
  // The stream ends (heartbeats may precede the end).
  for (;;) {
    const f = await reader.next();
    if (f === null) break;
    expect(f.comment).toBe('heartbeat');
  }
  const after = await dev.pull();
  expect(after.status).toBe(503);
  expect(after.body.error).toBe('service_unavailable');
  const health = await fetch(`${h.baseUrl}/syncx/health`);
  expect(health.status).toBe(503);
  expect(await health.json()).toMatchObject({ status: 'unhealthy', lifecycle: 'closed', accepting_operations: false });
  await expect(h.server.writeAs('vera', 'x', async () => 1)).rejects.toThrow(/closed/);
});
