// One user cannot hold unbounded server state: open push sessions, planned rows across them and
// snapshot sessions are capped per user (limits.maxOpenPushSessionsPerUser / maxStagedRowsPerUser
// / maxSnapshotSessionsPerUser). Past a cap: 429 push_session_capacity or the protocol's 503
// snapshot_build_capacity, both with Retry-After; other users are unaffected; finishing or deleting
// a session frees its slot.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'user_quotas',
    limits: { maxOpenPushSessionsPerUser: 3, maxStagedRowsPerUser: 100, maxSnapshotSessionsPerUser: 2 },
  });
});
afterAll(() => h?.close());

it('a fourth open push session of one user is refused 429; deleting one frees the slot', async () => {
  const devices = ['a', 'b', 'c', 'd'].map((s) => new RawSyncClient(h.baseUrl, h.tokenFor('quinn'), `quinn-${s}`));
  for (const d of devices) await d.connect(false);
  const ids: string[] = [];
  for (const d of devices.slice(0, 3)) {
    const r = await d.createPush(1, 10);
    expect(r.status).toBe(200);
    ids.push(r.body.push_id);
  }
  // Re-creating the same (source, source_bundle_id) replaces its session: not a new slot.
  const again = await devices[0]!.createPush(1, 10);
  expect(again.status).toBe(200);
  ids[0] = again.body.push_id;
  const refused = await devices[3]!.createPush(1, 10);
  expect(refused.status).toBe(429);
  expect(refused.body.error).toBe('push_session_capacity');
  expect(refused.headers.get('retry-after')).toBe('1');
  // Another user is not affected.
  const other = new RawSyncClient(h.baseUrl, h.tokenFor('rhea'), 'rhea-a');
  await other.connect(false);
  expect((await other.createPush(1, 10)).status).toBe(200);
  expect((await devices[1]!.deletePush(ids[1]!)).status).toBe(204);
  expect((await devices[3]!.createPush(1, 10)).status).toBe(200);
});

it('planned rows across open sessions are capped: 429 when the next session would pass the cap', async () => {
  const a = new RawSyncClient(h.baseUrl, h.tokenFor('sol'), 'sol-a');
  const b = a.withSource('sol-b');
  await a.connect(false);
  await b.connect(false);
  expect((await a.createPush(1, 80)).status).toBe(200);
  const over = await b.createPush(1, 21);
  expect(over.status).toBe(429);
  expect(over.body.message).toMatch(/limit 100/);
  expect((await b.createPush(1, 20)).status).toBe(200);
  // One bundle larger than the whole allowance can never be staged: final 400, not 429.
  const huge = await b.withSource('sol-c').createPush(1, 101);
  expect(huge.status).toBe(400);
  expect(huge.body.error).toBe('push_session_invalid');
  expect(huge.body.message).toMatch(/exceeds the 100 rows/);
});

it('a third snapshot session of one user is refused with snapshot_build_capacity; deleting one frees it', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('tia'), 'tia-a');
  await dev.connect(false);
  const first = await dev.createSnapshot();
  const second = await dev.createSnapshot();
  expect([first.status, second.status]).toEqual([200, 200]);
  const third = await dev.createSnapshot();
  expect(third.status).toBe(503);
  expect(third.body.error).toBe('snapshot_build_capacity');
  expect(third.headers.get('retry-after')).toBe('1');
  expect((await dev.deleteSnapshot(first.body.snapshot_id)).status).toBe(204);
  expect((await dev.createSnapshot()).status).toBe(200);
});
