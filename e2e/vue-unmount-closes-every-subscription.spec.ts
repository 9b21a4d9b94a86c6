/**
 * The Vue composables release what they hold when their component unmounts: every live query of
 * `useQuery` and the status subscription of `useSyncStatus`, which meanwhile shows the attached user.
 */
import { expect, test } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { openBindingTab } from './binding-page.ts';
import { syncAppSchema } from './sync-schema.ts';

test('unmounting Vue apps closes every live query and status subscription', async ({ browser }) => {
  const page = await openBindingTab(await browser.newContext(), 'vue');
  const user = `vue-cleanup-${Date.now()}`;
  await page.evaluate(
    async ({ schema, token }) => {
      await window.harness.openSynced('sync', schema, token);
      window.vueHarness.track('sync');
    },
    { schema: syncAppSchema, token: signHarnessToken(user) },
  );
  const baseline = await page.evaluate(() => window.vueHarness.counts('sync'));
  await page.evaluate(async () => {
    for (let i = 0; i < 5; i++) window.vueHarness.mountQuery('sync', `q${i}`, 'SELECT id FROM items WHERE n > ?', [i]);
    window.vueHarness.mountStatus('sync', 'status');
    for (let i = 0; i < 5; i++) await window.vueHarness.waitForRecord(`q${i}`, 'return !r.loading');
  });
  const mounted = await page.evaluate(() => window.vueHarness.counts('sync'));
  expect(mounted.liveOpen).toBe(baseline.liveOpen + 5);
  expect(mounted.statusSubscriptions).toBe(baseline.statusSubscriptions + 1);

  await page.evaluate(async (u) => {
    await window.harness.db('sync').sync.attach(u);
  }, user);
  await page.waitForFunction((u) => window.vueHarness.statuses('status').some((s) => s?.userId === u), user);

  await page.evaluate(() => {
    for (let i = 0; i < 5; i++) window.vueHarness.unmount(`q${i}`);
    window.vueHarness.unmount('status');
  });
  expect(await page.evaluate(() => window.vueHarness.counts('sync'))).toEqual({ ...baseline, liveOpened: mounted.liveOpened });
});
