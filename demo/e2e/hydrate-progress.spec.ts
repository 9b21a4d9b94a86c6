/**
 * Hydrate: a device signing in to an account that already has data downloads it as a snapshot
 * and shows the progress (rows done of the total) while it does; then the data is all there.
 */
import { expect, test } from '@playwright/test';
import { expectSynced, openDevice, screenshot, signIn, taskTitles, uniqueUser } from './demo-page.ts';

declare global {
  interface Window {
    /** Every text the download bar showed while visible (recorded by the init script below). */
    progressSeen?: string[];
  }
}

test('a second device downloads existing data with visible progress', async ({ browser }) => {
  const user = uniqueUser('hydrate');
  const a = await openDevice(browser, 'A');
  await signIn(a.page, user);
  await a.page.getByTestId('inspector-sample').click();
  await expect(a.page.getByTestId('project-title')).toHaveText('Sample data (500 tasks)');
  await expectSynced(a.page);

  const b = await openDevice(browser, 'B');
  // Record the download bar's states from the first render on (it may be visible only briefly).
  await b.context.addInitScript(() => {
    window.progressSeen = [];
    new MutationObserver(() => {
      const bar = document.querySelector<HTMLElement>('[data-testid="hydrate-progress"]');
      const text = bar?.textContent ?? '';
      if (bar !== null && !bar.hidden && window.progressSeen!.at(-1) !== text) window.progressSeen!.push(text);
    }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await b.page.reload();
  await signIn(b.page, user);
  await expect(b.page.getByTestId('project-title')).toHaveText('Sample data (500 tasks)');
  await expect.poll(async () => (await taskTitles(b.page)).length).toBe(500);
  const seen = await b.page.evaluate(() => window.progressSeen ?? []);
  expect(
    seen.some((text) => /Downloading your data… \d+ \/ 501/.test(text)),
    `download bar states: ${JSON.stringify(seen)}`,
  ).toBe(true);
  await expect(b.page.getByTestId('hydrate-progress')).toBeHidden();
  await expect(b.page.getByTestId('inspector-attach')).toHaveText('used_remote_state');
  await screenshot(b.page, 'after-hydrate');

  // Signing out detaches the user (their rows leave this device) and shows the sign-in screen.
  await b.page.getByTestId('sign-out').click();
  await expect(b.page.locator('body')).toHaveAttribute('data-state', 'signin');
  await a.context.close();
  await b.context.close();
});
