/**
 * Automatic sync end to end: with autoSync on, a write on one device is pushed after a short
 * debounce, the server's watch stream wakes the other device, its engine pulls, and a live query
 * there re-runs: no manual sync call anywhere.
 */
import { expect, test } from '@playwright/test';
import type { Browser, Page } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

async function device(browser: Browser, token: string, user: string): Promise<Page> {
  const page = await openTab(await browser.newContext());
  await page.evaluate(
    async ({ schema, token, user }) => {
      await window.harness.openSynced('sync', schema, token, 'server-wins', true);
      await window.harness.db('sync').sync.attach(user);
      window.harness.live('sync', 'items', 'SELECT id, body FROM items ORDER BY id');
    },
    { schema: syncAppSchema, token, user },
  );
  return page;
}

test('a write on one device reaches a live query on another without manual sync', async ({ browser }) => {
  const user = `auto-${Date.now()}`;
  const token = signHarnessToken(user);
  const a = await device(browser, token, user);
  const b = await device(browser, token, user);
  const started = Date.now();
  await a.evaluate(async () => {
    await window.harness.db('sync').exec("INSERT INTO items (id, body) VALUES ('auto1', 'pushed by itself')");
  });
  const rows = await b.evaluate(() => window.harness.waitForLive('items', "return rows.some((r) => r.id === 'auto1')", 20_000));
  console.log(`[auto] write on A visible in B's live query after ${Date.now() - started} ms`);
  expect(rows).toEqual([{ id: 'auto1', body: 'pushed by itself' }]);
  // And back the other way.
  await b.evaluate(async () => {
    await window.harness.db('sync').exec("UPDATE items SET body = 'edited by B' WHERE id = 'auto1'");
  });
  await a.evaluate(() => window.harness.waitForLive('items', "return rows.some((r) => r.body === 'edited by B')", 20_000));
});
