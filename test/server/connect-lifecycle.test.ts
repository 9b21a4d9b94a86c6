// First-connect handshake: initialize_local with a lease owned by one source, retry_later for the
// others, same-source refresh keeping the initialization_id, the seed push moving the scope to
// INITIALIZED, and an expired lease failing the stale initializer.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'connect', limits: { initializationLeaseTtlSeconds: 120 } });
});
afterAll(() => h?.close());

const tag = (name: string) => ({ schema: 'business', table: 'tags', key: { name }, op: 'INSERT', base_row_version: 0, payload: { name } });

it('initialize_local leases the scope to one source; others retry later; the seed commit initializes it', async () => {
  const a = new RawSyncClient(h.baseUrl, h.tokenFor('frank'), 'device-a');
  const b = a.withSource('device-b');
  const first = await a.connect(true);
  expect(first.status).toBe(200);
  expect(first.body.resolution).toBe('initialize_local');
  expect(first.body.initialization_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(Date.parse(first.body.lease_expires_at)).toBeGreaterThan(Date.now());

  const other = await b.connect(true);
  expect(other.body.resolution).toBe('retry_later');
  expect(other.body.retry_after_seconds).toBeGreaterThanOrEqual(1);
  expect(other.body.retry_after_seconds).toBeLessThanOrEqual(120);
  expect(other.body.lease_expires_at).toBeTypeOf('string');

  // Reads are gated while initializing.
  expect((await b.pull()).body.error).toBe('scope_initializing');
  expect((await b.createSnapshot()).body.error).toBe('scope_initializing');
  // A push without the initialization id is invalid; with someone else's source it is stale.
  expect((await a.createPush(1, 1)).body.error).toBe('push_session_invalid');
  expect((await b.createPush(1, 1, { initialization_id: first.body.initialization_id })).body.error).toBe('initialization_stale');

  const refresh = await a.connect(true);
  expect(refresh.body).toMatchObject({ resolution: 'initialize_local', initialization_id: first.body.initialization_id });

  const seed = await a.push(1, [tag('seeded')], 1000, { initialization_id: first.body.initialization_id });
  expect(seed.status).toBe(200);
  expect(seed.body.bundle_seq).toBe(1);
  expect((await b.connect(true)).body).toEqual({ resolution: 'remote_authoritative' });
  expect((await a.createPush(2, 1, { initialization_id: first.body.initialization_id })).body.error).toBe('push_session_invalid');
});

it('an expired lease resets the scope: the stale initializer gets initialization_expired, a new connect wins', async () => {
  const a = new RawSyncClient(h.baseUrl, h.tokenFor('gina'), 'device-a');
  const b = a.withSource('device-b');
  const lease = await a.connect(true);
  const session = await a.createPush(1, 1, { initialization_id: lease.body.initialization_id });
  expect(session.body.status).toBe('staging');
  await h.database.query(
    `UPDATE sync.scope_state SET lease_expires_at = now() - interval '1 second' WHERE user_pk = (SELECT user_pk FROM sync.user_state WHERE user_id = 'gina')`,
  );
  const chunk = await a.chunk(session.body.push_id, 0, [tag('late')]);
  expect(chunk.status).toBe(410);
  expect(chunk.body.error).toBe('initialization_expired');
  expect((await a.createPush(1, 1, { initialization_id: lease.body.initialization_id })).body.error).toBe('initialization_expired');
  expect((await b.connect(false)).body).toEqual({ resolution: 'initialize_empty' });
  expect((await a.connect(true)).body).toEqual({ resolution: 'remote_authoritative' });
});

it('the same source reconnecting without pending rows initializes empty; before connect everything is uninitialized', async () => {
  const a = new RawSyncClient(h.baseUrl, h.tokenFor('hank'), 'device-a');
  expect((await a.pull()).body.error).toBe('scope_uninitialized');
  expect((await a.createPush(1, 1)).body.error).toBe('scope_uninitialized');
  expect((await a.createSnapshot()).status).toBe(409);
  await a.connect(true);
  expect((await a.connect(false)).body).toEqual({ resolution: 'initialize_empty' });
  expect((await a.pull()).body).toEqual({ stable_bundle_seq: 0, bundles: [], has_more: false });
});

it('rejects a bad connect body with typed errors', async () => {
  const a = new RawSyncClient(h.baseUrl, h.tokenFor('ivan'), 'device-a');
  expect((await a.request('POST', '/sync/connect')).body.error).toBe('invalid_request');
  expect((await a.request('POST', '/sync/connect', undefined, '{nope')).body.error).toBe('invalid_request');
  const wrong = await a.request('POST', '/sync/connect', { has_local_pending_rows: 'yes' });
  expect(wrong.status).toBe(400);
  expect(wrong.body.error).toBe('connect_invalid');
});
