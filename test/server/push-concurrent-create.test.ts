// Concurrent push-session creates for the same (user, source, source_bundle_id) serialize on the
// user lock: exactly one staging session survives, and only its push_id is usable.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_concurrent' });
});
afterAll(() => h?.close());

it('leaves exactly one staging session after 8 concurrent creates', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('xena'), 'dev');
  await dev.connect(false);
  const results = await Promise.all(Array.from({ length: 8 }, () => dev.createPush(1, 1)));
  expect(results.every((r) => r.status === 200 && r.body.status === 'staging')).toBe(true);
  const sessions = await h.database.query<{ push_id: string }>(`SELECT push_id::text AS push_id FROM sync.push_sessions`);
  expect(sessions.rows).toHaveLength(1);
  const survivor = sessions.rows[0]!.push_id;
  const row = { schema: 'business', table: 'tags', key: { name: 'one' }, op: 'INSERT', base_row_version: 0, payload: { name: 'one' } };
  for (const r of results) {
    const chunk = await dev.chunk(r.body.push_id, 0, [row]);
    expect(chunk.status).toBe(r.body.push_id === survivor ? 200 : 404);
  }
  expect((await dev.commit(survivor)).body.bundle_seq).toBe(1);
});

it('concurrent pushes of two users and two sources keep per-user gapless bundle_seq', async () => {
  const clients = ['yara', 'zane'].flatMap((u) => ['s1', 's2'].map((s) => new RawSyncClient(h.baseUrl, h.tokenFor(u), s)));
  await clients[0]!.connect(false);
  await clients[2]!.connect(false);
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 1; i <= 5; i++) {
        const r = await c.push(i, [
          {
            schema: 'business',
            table: 'tags',
            key: { name: `${c.sourceId}-${i}` },
            op: 'INSERT',
            base_row_version: 0,
            payload: { name: `${c.sourceId}-${i}` },
          },
        ]);
        expect(r.status).toBe(200);
      }
    }),
  );
  const seqs = await h.database.query<{ user_id: string; seqs: string[] }>(
    `SELECT u.user_id, array_agg(b.bundle_seq::text ORDER BY b.bundle_seq) AS seqs FROM sync.bundle_log b JOIN sync.user_state u USING (user_pk)
      WHERE u.user_id IN ('yara', 'zane') GROUP BY u.user_id ORDER BY u.user_id`,
  );
  const expected = Array.from({ length: 10 }, (_, i) => String(i + 1));
  expect(seqs.rows).toEqual([
    { user_id: 'yara', seqs: expected },
    { user_id: 'zane', seqs: expected },
  ]);
});
