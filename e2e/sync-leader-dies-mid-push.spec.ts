/**
 * The leader tab closes in the middle of a push of 5,000 rows. A follower takes over, syncs, and
 * the server ends with every row exactly once; nothing stays pending.
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { syncInfoFile } from './browser.ts';
import { openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

test('leader closed mid-push: the next leader finishes it, each row once on the server', async ({ browser }) => {
  test.setTimeout(120_000);
  const user = `midpush-${Date.now()}`;
  const token = signHarnessToken(user);
  const device = await browser.newContext();
  const leader = await openTab(device);
  const follower = await openTab(device);
  for (const page of [leader, follower]) {
    await page.evaluate(
      async ({ schema, token }) => {
        await window.harness.openSynced('sync', schema, token);
      },
      { schema: syncAppSchema, token },
    );
  }
  await leader.evaluate(
    async ({ user }) => {
      const db = window.harness.db('sync');
      await db.sync.attach(user);
      await db.transaction(
        Array.from({ length: 5000 }, (_, i) => ({ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: [`p${i}`, i] })),
      );
      void db.sync.sync().catch(() => {});
    },
    { user },
  );
  // Close the leader once the follower sees the push under way.
  await follower.waitForFunction(() => window.harness.statusLog('sync').some((s) => s.phase === 'pushing'), undefined, { timeout: 30_000 });
  const phaseAtClose = await follower.evaluate(() => window.harness.db('sync').sync.status.get()?.phase);
  await leader.close();
  const info = JSON.parse(readFileSync(syncInfoFile, 'utf8')) as { connectionString: string };
  const client = new pg.Client({ connectionString: info.connectionString });
  await client.connect();
  const atClose = await client.query<{ c: string }>('SELECT count(*) AS c FROM e2e.items WHERE _sync_scope_id = $1', [user]);
  await follower.waitForFunction(() => window.harness.db('sync').role === 'leader', undefined, { timeout: 10_000 });
  const after = await follower.evaluate(async () => {
    const db = window.harness.db('sync');
    await db.sync.sync();
    const again = await db.sync.sync(); // nothing left to push
    return { pending: db.sync.status.get()?.pendingCount, secondPush: again.push.outcome };
  });
  console.log(
    `[mid-push] leader closed during phase ${phaseAtClose} with ${atClose.rows[0]!.c} rows committed on the server; after take-over: ${JSON.stringify(after)}`,
  );
  expect(after).toEqual({ pending: 0, secondPush: 'no_change' });

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
