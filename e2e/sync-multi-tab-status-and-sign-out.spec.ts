/**
 * Sync with several tabs of one device: one engine (in the leader's worker) serves them all. The
 * sync status is the same in every tab, a pull re-runs live queries in followers, the next leader
 * pushes what the closed leader left pending, and signing out in one tab signs out everywhere.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

function status(page: Page): Promise<{ userId: string | null; pendingCount: number } | null> {
  return page.evaluate(() => {
    const s = window.harness.db('sync').sync.status.get();
    return s === null ? null : { userId: s.userId, pendingCount: s.pendingCount };
  });
}

test('tabs share one sync status, pulls reach follower live queries, hand-over resumes the push, sign-out is everywhere', async ({
  browser,
}) => {
  const user = `tabs-${Date.now()}`;
  const token = signHarnessToken(user);
  const device = await browser.newContext();
  const tabs = [await openTab(device), await openTab(device), await openTab(device)];
  for (const tab of tabs)
    await tab.evaluate(
      async ({ schema, token }) => {
        await window.harness.openSynced('sync', schema, token);
      },
      { schema: syncAppSchema, token },
    );
  expect(await Promise.all(tabs.map((t) => t.evaluate(() => window.harness.db('sync').role)))).toEqual(['leader', 'follower', 'follower']);

  // Sign in from a follower: every tab sees the same user.
  await tabs[1]!.evaluate(async (user) => {
    await window.harness.db('sync').sync.attach(user);
  }, user);
  for (const tab of tabs) await expect.poll(async () => (await status(tab))?.userId).toBe(user);
  expect(await tabs[2]!.evaluate(() => window.harness.lastAttachedUser('sync'))).toBe(user);

  // Another device writes; a follower's sync pulls it, and a live query in the other follower re-runs.
  const other = await browser.newContext();
  const otherTab = await openTab(other);
  await otherTab.evaluate(
    async ({ schema, token, user }) => {
      await window.harness.openSynced('sync', schema, token);
      const db = window.harness.db('sync');
      await db.sync.attach(user);
      await db.exec("INSERT INTO items (id, body) VALUES ('remote1', 'from the other device')");
      await db.sync.sync();
    },
    { schema: syncAppSchema, token, user },
  );
  await tabs[2]!.evaluate(() => window.harness.live('sync', 'items', 'SELECT id FROM items ORDER BY id'));
  await tabs[1]!.evaluate(async () => {
    await window.harness.db('sync').sync.sync();
  });
  await tabs[2]!.evaluate(() => window.harness.waitForLive('items', "return rows.some((r) => r.id === 'remote1')"));

  // A follower writes while offline-ish (no sync yet): every tab reports the same pending count.
  await tabs[2]!.evaluate(async () => {
    await window.harness.db('sync').exec("INSERT INTO items (id, body) VALUES ('local1', 'pending')");
  });
  for (const tab of tabs) await expect.poll(async () => (await status(tab))?.pendingCount).toBe(1);

  // The leader closes with that change pending; the next leader pushes it.
  await tabs[0]!.close();
  const rest = tabs.slice(1);
  await expect
    .poll(async () => (await Promise.all(rest.map((t) => t.evaluate(() => window.harness.db('sync').role)))).sort())
    .toEqual(['follower', 'leader']);
  await rest[1]!.evaluate(async () => {
    await window.harness.db('sync').sync.sync();
  });
  for (const tab of rest) await expect.poll(async () => (await status(tab))?.pendingCount).toBe(0);
  const seenByOther = await otherTab.evaluate(async () => {
    const db = window.harness.db('sync');
    await db.sync.sync();
    return (await db.query<{ id: string }>('SELECT id FROM items ORDER BY id')).map((r) => r.id);
  });
  expect(seenByOther).toEqual(['local1', 'remote1']);

  // Sign out in one tab: every tab is signed out and the synced rows are gone everywhere.
  const detached = await rest[0]!.evaluate(async () => window.harness.db('sync').sync.detach());
  expect(detached.outcome).toBe('detached');
  for (const tab of rest) await expect.poll(async () => (await status(tab))?.userId).toBeNull();
  expect(await rest[1]!.evaluate(() => window.harness.lastAttachedUser('sync'))).toBeNull();
  await tabs[2]!.evaluate(() => window.harness.waitForLive('items', 'return rows.length === 0'));
  await device.close();
  await other.close();
});
