// Watch streams are bounded per user and process: past `maxWatchStreamsPerUser` a new stream is
// answered `429 bundle_change_watch_capacity` with Retry-After (other users unaffected), and a
// closed stream frees its slot.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { SseReader } from '../harness/sse-reader.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'watch_streams_bounded',
    watch: { enabled: true, heartbeatMs: 60_000 },
    limits: { maxWatchStreamsPerUser: 2 },
  });
});
afterAll(() => h?.close());

function watch(c: RawSyncClient): Promise<Response> {
  return fetch(`${h.baseUrl}/sync/watch?after_bundle_seq=0`, { headers: c.headers() });
}

it('refuses a third stream of one user with 429 and Retry-After, and frees a slot on close', async () => {
  const ann = new RawSyncClient(h.baseUrl, h.tokenFor('ann'), 'phone');
  const ben = new RawSyncClient(h.baseUrl, h.tokenFor('ben'), 'phone');
  await ann.connect(false);
  await ben.connect(false);
  const first = await watch(ann);
  const second = await watch(ann.withSource('tablet'));
  expect([first.status, second.status]).toEqual([200, 200]);

  const third = await watch(ann.withSource('laptop'));
  expect(third.status).toBe(429);
  expect(third.headers.get('retry-after')).toBe('1');
  expect(await third.json()).toMatchObject({ error: 'bundle_change_watch_capacity' });

  // Another user is not affected.
  const other = await watch(ben);
  expect(other.status).toBe(200);

  await new SseReader(first.body!.getReader()).cancel();
  await vi.waitFor(() => expect(h.server.bundleChangeSubscriberCount('ann')).toBe(1), { timeout: 5000, interval: 20 });
  const again = await watch(ann.withSource('laptop'));
  expect(again.status).toBe(200);

  for (const r of [second, other, again]) await new SseReader(r.body!.getReader()).cancel();
});
