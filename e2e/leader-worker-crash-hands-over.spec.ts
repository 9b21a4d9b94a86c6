/**
 * The leader tab's database worker dies on its own while the tab lives (it throws and closes
 * itself). The tab notices, hands the database over as a closing leader would, and keeps working
 * as a follower (or leads again with a new worker). Follower writes in flight complete, each
 * exactly once; no acknowledged write is lost; the crashed tab's own reads continue. A push cut
 * off by the crash is finished by the next leader, each row once on the server.
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { syncInfoFile } from './browser.ts';
import { notesSchema, openDb, openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

interface Stream {
  acked: number[];
  failed: string[];
  done: boolean;
}

test('leader worker crash while its tab lives: hand-over, follower calls complete, no acknowledged write lost', async ({ context }) => {
  const leader = await openTab(context);
  const followerA = await openTab(context);
  const followerB = await openTab(context);
  expect(await leader.evaluate((schema) => window.harness.openCrashable('crash', schema), notesSchema)).toEqual({ role: 'leader' });
  expect(await openDb(followerA, 'crash')).toBe('follower');
  expect(await openDb(followerB, 'crash')).toBe('follower');

  // Follower A and the leader tab itself each write 300 rows, 3 at a time, recording acknowledgements.
  const startStream = (tab: string): void => {
    const db = window.harness.db('crash');
    const state: Stream = { acked: [], failed: [], done: false };
    (window as unknown as { stream: Stream }).stream = state;
    void (async () => {
      for (let i = 0; i < 300; i += 3) {
        await Promise.all(
          [i, i + 1, i + 2].map(async (seq) => {
            try {
              await db.exec('INSERT INTO notes (tab, seq) VALUES (?, ?)', [tab, seq]);
              state.acked.push(seq);
            } catch (e) {
              state.failed.push(`${seq}:${(e as { code: string }).code}`);
            }
          }),
        );
      }
      state.done = true;
    })();
  };
  await followerA.evaluate(startStream, 'a');
  await leader.evaluate(startStream, 'l');
  await followerA.waitForFunction(() => (window as unknown as { stream: Stream }).stream.acked.length >= 45);

  const crashedAt = Date.now();
  await leader.evaluate(() => window.harness.crashWorker('crash'));
  // The crashed tab's own read issued right after the crash is answered (by whoever leads next).
  const readAfterCrash = await leader.evaluate(
    async () => (await window.harness.db('crash').query<{ c: number }>('SELECT count(*) AS c FROM notes'))[0]!.c,
  );
  expect(readAfterCrash).toBeGreaterThan(0);

  for (const page of [followerA, leader]) {
    await page.waitForFunction(() => (window as unknown as { stream: Stream }).stream.done, undefined, { timeout: 30_000 });
  }
  const a = await followerA.evaluate(() => (window as unknown as { stream: Stream }).stream);
  const l = await leader.evaluate(() => (window as unknown as { stream: Stream }).stream);
  const roles = await Promise.all([leader, followerA, followerB].map((p) => p.evaluate(() => window.harness.db('crash').role)));
  const leaderErrors = await leader.evaluate(() => window.harness.errors);
  console.log(
    `[worker crash] streams finished ${Date.now() - crashedAt} ms after the crash; roles ${roles.join(',')}; ` +
      `follower acked ${a.acked.length} failed ${a.failed.length}; crashed tab acked ${l.acked.length} failed ${l.failed.join(' ') || 'none'}`,
  );

  expect(roles.filter((r) => r === 'leader')).toHaveLength(1);
  expect(leaderErrors.some((e) => e.startsWith('internal: The database worker of this tab ended'))).toBe(true);
  // Follower calls are re-sent to the next leader exactly once: all complete.
  expect(a.failed).toEqual([]);
  // The crashed tab's own writes in flight at the crash carry no request id: at most those 3 fail, as leader_lost.
  expect(l.failed.length).toBeLessThanOrEqual(3);
  for (const f of l.failed) expect(f).toMatch(/:leader_lost$/);

  const rows = await followerB.evaluate(
    async () => await window.harness.db('crash').query<{ tab: string; seq: number }>('SELECT tab, seq FROM notes ORDER BY tab, seq'),
  );
  const seqs = (tab: string): number[] => rows.filter((r) => r.tab === tab).map((r) => r.seq);
  // UNIQUE (tab, seq) would make a doubled write fail loudly; every acknowledged write is there.
  expect(seqs('a')).toHaveLength(300);
  for (const seq of l.acked) expect(seqs('l')).toContain(seq);
  expect(seqs('l').length).toBeGreaterThanOrEqual(l.acked.length);

  // The crashed tab keeps working: a write and a read through whoever leads now.
  await leader.evaluate(() => window.harness.db('crash').exec('INSERT INTO notes (tab, seq) VALUES (?, ?)', ['after', 1]));
  expect(
    await followerB.evaluate(
      async () => (await window.harness.db('crash').query<{ c: number }>("SELECT count(*) AS c FROM notes WHERE tab = 'after'"))[0]!.c,
    ),
  ).toBe(1);
});

test('only tab: its worker crashes, the tab leads again with a new worker and keeps its data', async ({ context }) => {
  const tab = await openTab(context);
  expect(await tab.evaluate((schema) => window.harness.openCrashable('solo-crash', schema), notesSchema)).toEqual({ role: 'leader' });
  await tab.evaluate(() => window.harness.db('solo-crash').exec('INSERT INTO notes (tab, seq) VALUES (?, ?)', ['s', 1]));
  await tab.evaluate(() => window.harness.crashWorker('solo-crash'));
  // The app is told (an `error` event); a write issued before that could still be in flight at the crash.
  await tab.waitForFunction(() => window.harness.errors.some((e) => e.startsWith('internal: The database worker of this tab ended')));
  const after = await tab.evaluate(async () => {
    const db = window.harness.db('solo-crash');
    const before = (await db.query<{ c: number }>('SELECT count(*) AS c FROM notes'))[0]!.c;
    await db.exec('INSERT INTO notes (tab, seq) VALUES (?, ?)', ['s', 2]);
    return { before, role: db.role, total: (await db.query<{ c: number }>('SELECT count(*) AS c FROM notes'))[0]!.c };
  });
  expect(after).toEqual({ before: 1, role: 'leader', total: 2 });
});

test('leader worker crash mid-push: the next leader finishes it, each row once on the server', async ({ browser }) => {
  test.setTimeout(120_000);
  const user = `crashpush-${Date.now()}`;
  const token = signHarnessToken(user);
  const device = await browser.newContext();
  const leader = await openTab(device);
  const follower = await openTab(device);
  await leader.evaluate(
    async ({ schema, token }) => {
      await window.harness.openSynced('sync', schema, token, 'server-wins', false, true);
    },
    { schema: syncAppSchema, token },
  );
  await follower.evaluate(
    async ({ schema, token }) => {
      await window.harness.openSynced('sync', schema, token);
    },
    { schema: syncAppSchema, token },
  );
  await leader.evaluate(
    async ({ user }) => {
      const db = window.harness.db('sync');
      await db.sync.attach(user);
      await db.transaction(
        Array.from({ length: 5000 }, (_, i) => ({ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: [`c${i}`, i] })),
      );
      const state = { result: '' };
      (window as unknown as { syncCall: typeof state }).syncCall = state;
      db.sync.sync().then(
        (r) => {
          state.result = `ok:${r.push.outcome}`;
        },
        (e: { code: string }) => {
          state.result = `failed:${e.code}`;
        },
      );
    },
    { user },
  );
  await follower.waitForFunction(() => window.harness.statusLog('sync').some((s) => s.phase === 'pushing'), undefined, { timeout: 30_000 });
  await leader.evaluate(() => window.harness.crashWorker('sync'));
  await follower.waitForFunction(() => window.harness.db('sync').role === 'leader', undefined, { timeout: 10_000 });
  // The crashed tab's own sync() call was re-sent to the new leader and completes there.
  await leader.waitForFunction(() => (window as unknown as { syncCall: { result: string } }).syncCall.result !== '', undefined, {
    timeout: 60_000,
  });
  const crashedTabSync = await leader.evaluate(() => (window as unknown as { syncCall: { result: string } }).syncCall.result);
  const after = await follower.evaluate(async () => {
    const db = window.harness.db('sync');
    await db.sync.sync();
    const again = await db.sync.sync();
    return { pending: db.sync.status.get()?.pendingCount, secondPush: again.push.outcome };
  });
  console.log(`[worker crash mid-push] crashed tab's sync(): ${crashedTabSync}; after take-over: ${JSON.stringify(after)}`);
  expect(crashedTabSync).toMatch(/^ok:/);
  expect(after).toEqual({ pending: 0, secondPush: 'no_change' });
  const info = JSON.parse(readFileSync(syncInfoFile, 'utf8')) as { connectionString: string };
  const client = new pg.Client({ connectionString: info.connectionString });
  await client.connect();
  try {
    const result = await client.query<{ rows: string; distinct_ids: string; sum: string }>(
      'SELECT count(*) AS rows, count(DISTINCT id) AS distinct_ids, sum(n)::text AS sum FROM e2e.items WHERE _sync_scope_id = $1',
      [user],
    );
    expect(result.rows[0]).toEqual({ rows: '5000', distinct_ids: '5000', sum: String((4999 * 5000) / 2) });
  } finally {
    await client.end();
  }
  await device.close();
});
