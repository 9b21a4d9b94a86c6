/**
 * `useQuery` re-renders when sync brings rows in: a write on one device, pushed, and pulled by a
 * second device, reaches the second device's mounted component; `useSyncStatus` there shows the
 * attached user.
 */
import { expect, test } from '@playwright/test';
import type { Browser, Page } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { openBindingTab } from './binding-page.ts';
import { syncAppSchema } from './sync-schema.ts';

async function device(browser: Browser, token: string, user: string): Promise<Page> {
  const page = await openBindingTab(await browser.newContext(), 'react');
  await page.evaluate(
    async ({ schema, token, user }) => {
      await window.harness.openSynced('sync', schema, token);
      await window.harness.db('sync').sync.attach(user);
      window.reactHarness.mountQuery('sync', 'items', 'SELECT id, body FROM items ORDER BY id');
      window.reactHarness.mountStatus('sync', 'status');
      await window.reactHarness.waitForRender('items', 'return !r.loading');
    },
    { schema: syncAppSchema, token, user },
  );
  return page;
}

test('rows pulled by sync re-render the component', async ({ browser }) => {
  const user = `react-sync-${Date.now()}`;
  const token = signHarnessToken(user);
  const a = await device(browser, token, user);
  const b = await device(browser, token, user);
  await b.waitForFunction((u) => window.reactHarness.statuses('status').some((s) => s?.userId === u), user);

  await a.evaluate(async () => {
    await window.harness.db('sync').exec("INSERT INTO items (id, body) VALUES ('r1', 'written on A')");
    await window.harness.db('sync').sync.sync();
  });
  await b.evaluate(async () => {
    await window.harness.db('sync').sync.sync();
  });
  const render = await b.evaluate(() => window.reactHarness.waitForRender('items', "return r.rows.some((row) => row.id === 'r1')"));
  expect(render.rows).toEqual([{ id: 'r1', body: 'written on A' }]);
});
