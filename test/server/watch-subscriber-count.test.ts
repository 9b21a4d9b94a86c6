// The server API exposes how many watch streams each user has open in this process
// (go-oversync: BundleChangeSubscriberCountForTest): counted when a stream opens, per user, and
// released when the client goes away.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { SseReader } from '../harness/sse-reader.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'watch_subscriber_count', watch: { enabled: true, heartbeatMs: 60_000 } });
});
afterAll(() => h?.close());

async function openWatch(c: RawSyncClient): Promise<SseReader> {
  const res = await fetch(`${h.baseUrl}/sync/watch?after_bundle_seq=0`, { headers: c.headers() });
  expect(res.status).toBe(200);
  return new SseReader(res.body!.getReader());
}

it('counts open watch streams per user and releases them on disconnect', async () => {
  const alice = new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'phone');
  const bob = new RawSyncClient(h.baseUrl, h.tokenFor('bob'), 'laptop');
  await alice.connect(false);
  await bob.connect(false);
  expect(h.server.bundleChangeSubscriberCount('alice')).toBe(0);

  const a1 = await openWatch(alice);
  const a2 = await openWatch(alice.withSource('tablet'));
  const b1 = await openWatch(bob);
  // Subscribed before the response headers were sent.
  expect(h.server.bundleChangeSubscriberCount('alice')).toBe(2);
  expect(h.server.bundleChangeSubscriberCount('bob')).toBe(1);
  expect(h.server.bundleChangeSubscriberCount('carol')).toBe(0);

  // A commit reaches both of alice's streams.
  const committed = await h.server.writeAs('alice', 'server:count', (tx) => tx.query(`INSERT INTO business.tags (name) VALUES ('x')`));
  expect((await a1.nextBundle())?.bundle_seq).toBe(committed.bundle.bundle_seq);
  expect((await a2.nextBundle())?.bundle_seq).toBe(committed.bundle.bundle_seq);

  await a1.cancel();
  // The server notices the closed connection asynchronously.
  await vi.waitFor(() => expect(h.server.bundleChangeSubscriberCount('alice')).toBe(1), { timeout: 5000, interval: 20 });
  await a2.cancel();
  await b1.cancel();
  await vi.waitFor(
    () => {
      expect(h.server.bundleChangeSubscriberCount('alice')).toBe(0);
      expect(h.server.bundleChangeSubscriberCount('bob')).toBe(0);
    },
    { timeout: 5000, interval: 20 },
  );
});

it('is 0 when watch is disabled', async () => {
  const off = await startSyncServer({ purpose: 'watch_subscriber_count_off', watch: { enabled: false } });
  try {
    expect(off.server.bundleChangeSubscriberCount('alice')).toBe(0);
  } finally {
    await off.close();
  }
});
