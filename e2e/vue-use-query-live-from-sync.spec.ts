/**
 * A Vue `useQuery` follows rows that sync brings in: a write on one device, pushed and pulled by a
 * second device, changes the second device's refs; `useSyncStatus` there shows the attached user.
 */
import { expect, test } from '@playwright/test';
import type { Browser, Page } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { openBindingTab } from './binding-page.ts';
import { syncAppSchema } from './sync-schema.ts';

async function device(browser: Browser, token: string, user: string): Promise<Page> {
  const page = await openBindingTab(await browser.newContext(), 'vue');
  await page.evaluate(
    async ({ schema, token, user }) => {
      await window.harness.openSynced('sync', schema, token);
      await window.harness.db('sync').sync.attach(user);
      window.vueHarness.mountQuery('sync', 'items', 'SELECT id, body FROM items ORDER BY id');
      window.vueHarness.mountStatus('sync', 'status');
      await window.vueHarness.waitForRecord('items', 'return !r.loading');
    },
    { schema: syncAppSchema, token, user },
  );
  return page;
}

test('rows pulled by sync update the refs', async ({ browser }) => {
  const user = `vue-sync-${Date.now()}`;
  const token = signHarnessToken(user);
  const a = await device(browser, token, user);
  const b = await device(browser, token, user);
  await b.waitForFunction((u) => window.vueHarness.statuses('status').some((s) => s?.userId === u), user);
  await a.evaluate(async () => {
    await window.harness.db('sync').exec("INSERT INTO items (id, body) VALUES ('v1', 'written on A')");
    await window.harness.db('sync').sync.sync();
  });
  await b.evaluate(async () => {
    await window.harness.db('sync').sync.sync();
  });
  const record = await b.evaluate(() => window.vueHarness.waitForRecord('items', "return r.rows.some((row) => row.id === 'v1')"));
  expect(record.rows).toEqual([{ id: 'v1', body: 'written on A' }]);
});
