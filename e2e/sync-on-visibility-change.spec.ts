/**
 * Coming back to the foreground syncs: device B runs autoSync without the watch stream (and a
 * 60 s interval), so nothing wakes it when device A pushes a row. When B's page goes hidden and
 * becomes visible again (`visibilitychange`), its leader tab asks the engine for a sync, the row
 * is pulled, and B's live query shows it, with no manual sync call in B.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

/** Sets `document.visibilityState` as the browser would, and fires `visibilitychange`. */
function setVisibility(page: Page, state: 'hidden' | 'visible'): Promise<void> {
  return page.evaluate((state) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => state === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

test('a page that becomes visible again syncs (leader tab, autoSync, attached)', async ({ browser }) => {
  const user = `visible-${Date.now()}`;
  const token = signHarnessToken(user);

  const b = await openTab(await browser.newContext());
  await b.evaluate(
    async ({ schema, token, user }) => {
      await window.harness.openSynced('sync', schema, token, 'server-wins', 'no-watch');
      await window.harness.db('sync').sync.attach(user);
      window.harness.live('sync', 'items', 'SELECT id, body FROM items ORDER BY id');
    },
    { schema: syncAppSchema, token, user },
  );
  expect(await b.evaluate(() => window.harness.db('sync').role)).toBe('leader');

  const a = await openTab(await browser.newContext());
  await a.evaluate(
    async ({ schema, token, user }) => {
      await window.harness.openSynced('sync', schema, token);
      const db = window.harness.db('sync');
      await db.sync.attach(user);
      await db.exec("INSERT INTO items (id, body) VALUES ('vis1', 'pushed while B was in the background')");
      await db.sync.sync();
    },
    { schema: syncAppSchema, token, user },
  );

  // B has not exchanged anything with the server since it attached, so it cannot have the row.
  const before = await b.evaluate(async () => ({
    lastSyncAt: window.harness.db('sync').sync.status.get()?.lastSyncAt ?? null,
    rows: await window.harness.db('sync').query('SELECT id FROM items'),
  }));
  expect(before).toEqual({ lastSyncAt: null, rows: [] });

  await setVisibility(b, 'hidden');
  await setVisibility(b, 'visible');
  const rows = await b.evaluate(() => window.harness.waitForLive('items', "return rows.some((r) => r.id === 'vis1')", 15_000));
  expect(rows).toEqual([{ id: 'vis1', body: 'pushed while B was in the background' }]);
  expect(await b.evaluate(() => window.harness.db('sync').sync.status.get()?.lastSyncAt)).toEqual(expect.any(Number));
});
