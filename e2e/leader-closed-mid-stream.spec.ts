/**
 * The leader tab closes while a follower streams writes. The follower (or the other follower)
 * takes over; every write the follower saw acknowledged is present exactly once, and writes in
 * flight at the moment of the hand-over are either acknowledged or fail with a clear code.
 */
import { expect, test } from '@playwright/test';
import { openDb, openTab } from './page-helpers.ts';

test('leader closed mid-stream of follower writes: no acknowledged write lost or doubled', async ({ context }) => {
  const leader = await openTab(context);
  const followerA = await openTab(context);
  const followerB = await openTab(context);
  expect(await openDb(leader, 'handover')).toBe('leader');
  expect(await openDb(followerA, 'handover')).toBe('follower');
  expect(await openDb(followerB, 'handover')).toBe('follower');

  // Follower A writes 400 rows, 4 at a time, recording which ones were acknowledged.
  await followerA.evaluate(() => {
    const db = window.harness.db('handover');
    const state = { acked: [] as number[], failed: [] as string[], done: false };
    (window as unknown as { stream: typeof state }).stream = state;
    void (async () => {
      for (let i = 0; i < 400; i += 4) {
        await Promise.all(
          [i, i + 1, i + 2, i + 3].map(async (seq) => {
            try {
              await db.exec('INSERT INTO notes (tab, seq) VALUES (?, ?)', ['a', seq]);
              state.acked.push(seq);
            } catch (e) {
              state.failed.push(`${seq}:${(e as { code: string }).code}`);
            }
          }),
        );
      }
      state.done = true;
    })();
  });
  await followerA.waitForFunction(() => (window as unknown as { stream: { acked: number[] } }).stream.acked.length >= 60);
  const closedAt = Date.now();
  await leader.close();
  await followerA.waitForFunction(() => (window as unknown as { stream: { done: boolean } }).stream.done, undefined, { timeout: 30_000 });
  const stream = await followerA.evaluate(() => (window as unknown as { stream: { acked: number[]; failed: string[] } }).stream);
  console.log(
    `[hand-over] stream finished ${Date.now() - closedAt} ms after the leader closed; acked ${stream.acked.length}, failed ${stream.failed.length} ${stream.failed.slice(0, 5).join(' ')}`,
  );

  const roles = [
    await followerA.evaluate(() => window.harness.db('handover').role),
    await followerB.evaluate(() => window.harness.db('handover').role),
  ];
  expect(roles.filter((r) => r === 'leader')).toHaveLength(1);
  const rows = await followerB.evaluate(async () =>
    (await window.harness.db('handover').query<{ seq: number }>("SELECT seq FROM notes WHERE tab = 'a' ORDER BY seq")).map((r) => r.seq),
  );
  // UNIQUE (tab, seq) makes a doubled write fail loudly instead of hiding; check it anyway.
  expect(new Set(rows).size).toBe(rows.length);
  for (const seq of stream.acked) expect(rows).toContain(seq);
  expect(stream.failed).toEqual([]);
  expect(rows).toHaveLength(400);
});
