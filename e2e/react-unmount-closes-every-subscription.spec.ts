/**
 * Under StrictMode (effects run, are cleaned up, and run again) the React hooks hold exactly one
 * live query per mounted `useQuery` and one status subscription per `useSyncStatus`, and
 * unmounting releases every one of them: the database's open live queries go back to zero.
 */
import { expect, test } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { openBindingTab } from './binding-page.ts';
import { syncAppSchema } from './sync-schema.ts';

test('StrictMode mounts hold one subscription each; unmount releases all', async ({ browser }) => {
  const page = await openBindingTab(await browser.newContext(), 'react');
  const user = `react-cleanup-${Date.now()}`;
  await page.evaluate(
    async ({ schema, token }) => {
      await window.harness.openSynced('sync', schema, token);
      window.reactHarness.track('sync');
    },
    { schema: syncAppSchema, token: signHarnessToken(user) },
  );
  const baseline = await page.evaluate(() => window.reactHarness.counts('sync'));

  await page.evaluate(async () => {
    for (let i = 0; i < 5; i++) window.reactHarness.mountQuery('sync', `q${i}`, 'SELECT id FROM items WHERE n > ?', [i]);
    window.reactHarness.mountStatus('sync', 'status');
    for (let i = 0; i < 5; i++) await window.reactHarness.waitForRender(`q${i}`, 'return !r.loading');
  });
  const mounted = await page.evaluate(() => window.reactHarness.counts('sync'));
  console.log(`[react cleanup] StrictMode: ${mounted.liveOpened} live queries opened for 5 hooks, ${mounted.liveOpen} open`);
  expect(mounted.liveOpen).toBe(baseline.liveOpen + 5);
  expect(mounted.statusSubscriptions).toBe(baseline.statusSubscriptions + 1);

  // The status hook renders what the engine reports.
  await page.evaluate(async (u) => {
    await window.harness.db('sync').sync.attach(u);
  }, user);
  await page.waitForFunction((u) => window.reactHarness.statuses('status').some((s) => s?.userId === u), user);

  await page.evaluate(() => {
    for (let i = 0; i < 5; i++) window.reactHarness.unmount(`q${i}`);
    window.reactHarness.unmount('status');
  });
  expect(await page.evaluate(() => window.reactHarness.counts('sync'))).toEqual({ ...baseline, liveOpened: mounted.liveOpened });
});
