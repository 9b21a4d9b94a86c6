// GET /sync/capabilities: v1, connect_lifecycle, registered_table_specs sorted, and every
// bundle_limits field the protocol-handshake contract's capability bodies carry.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadContract } from '../contracts.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'capabilities', basePath: '/api/v1' });
});
afterAll(() => h?.close());

it('matches the shape of the contract capability bodies', async () => {
  const fixture = loadContract<{
    cases: Array<{ capabilities: { body: { bundle_limits: Record<string, number>; features: Record<string, boolean> } } }>;
  }>('protocol-handshake/connect.json');
  const contractLimitKeys = new Set(fixture.cases.flatMap((c) => Object.keys(c.capabilities.body.bundle_limits)));
  // Session limits are omitted when unlimited (0), as go-oversync does.
  contractLimitKeys.delete('max_rows_per_snapshot_session');
  contractLimitKeys.delete('max_bytes_per_snapshot_session');
  contractLimitKeys.delete('max_rows_per_bundle');
  contractLimitKeys.delete('max_bytes_per_bundle');
  const r = await new RawSyncClient(h.baseUrl, h.tokenFor('uma'), 'dev').capabilities();
  expect(r.status).toBe(200);
  expect(r.body.protocol_version).toBe('v1');
  expect(r.body.schema_version).toBe(1);
  expect(r.body.features).toMatchObject({ connect_lifecycle: true, bundle_change_watch: true, scope_initialization_leases: true });
  expect(r.body.registered_tables).toEqual(['business.projects', 'business.tags', 'business.tasks', 'business.users']);
  expect(r.body.registered_table_specs).toEqual([
    { schema: 'business', table: 'projects', sync_key_columns: ['id'] },
    { schema: 'business', table: 'tags', sync_key_columns: ['name'] },
    { schema: 'business', table: 'tasks', sync_key_columns: ['id'] },
    { schema: 'business', table: 'users', sync_key_columns: ['id'] },
  ]);
  for (const key of contractLimitKeys) expect({ key, type: typeof r.body.bundle_limits[key] }).toEqual({ key, type: 'number' });
  expect(r.body.bundle_limits.max_concurrent_snapshot_chunk_requests).toBe(8);
  expect(r.body.bundle_limits.max_rows_per_push_chunk).toBe(5000);
});

it('serves only under the configured base path', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('uma'), 'dev');
  expect((await dev.connect(false)).status).toBe(200);
  const root = new RawSyncClient(h.baseUrl.replace('/api/v1', ''), h.tokenFor('uma'), 'dev');
  expect((await root.capabilities()).status).toBe(404);
  expect((await root.request('GET', '/other/sync/capabilities')).body.error).toBe('not_found');
});
