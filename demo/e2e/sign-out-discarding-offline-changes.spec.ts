/**
 * Signing out with a change that never reached the server: the app refuses and says how many
 * changes are at stake, and offers "Discard and sign out"; after a confirmation the device signs
 * out (offline, too) and the change is gone for good: signing in again shows the server's tasks.
 */
import { expect, test } from '@playwright/test';
import {
  addProject,
  addTask,
  expectSynced,
  openDevice,
  setNetwork,
  signIn,
  taskTitles,
  uniqueUser,
  waitForServiceWorker,
} from './demo-page.ts';

test('sign-out offers to discard unsynced changes, and after confirming they are gone', async ({ browser }) => {
  const user = uniqueUser('discard');
  const device = await openDevice(browser, 'discard');
  const { page } = device;
  await signIn(page, user);
  await addProject(page, 'Errands');
  await addTask(page, 'Post the letter');
  await expectSynced(page);
  await waitForServiceWorker(page);

  await setNetwork(device, 'offline');
  await addTask(page, 'Draft idea');
  await expect(page.getByTestId('pending-count')).toHaveAttribute('data-count', '1');
  await page.getByTestId('sign-out').click();
  const notice = page.getByTestId('notice-info');
  await expect(notice).toContainText('1 local change is not on the server yet');

  // Dismissing the confirmation keeps everything.
  page.once('dialog', (dialog) => void dialog.dismiss());
  await notice.getByTestId('notice-action').click();
  await expect(page.getByTestId('pending-count')).toHaveAttribute('data-count', '1');
  await expect(page.locator('body')).toHaveAttribute('data-state', 'app');

  // Confirmed: signed out with the change discarded, offline.
  await page.getByTestId('sign-out').click();
  const dialogText = new Promise<string>((resolve) =>
    page.once('dialog', (dialog) => {
      resolve(dialog.message());
      void dialog.accept();
    }),
  );
  await page.getByTestId('notice-info').getByTestId('notice-action').click();
  expect(await dialogText).toContain('discard 1 local change');
  await expect(page.locator('body')).toHaveAttribute('data-state', 'signin');

  // Back online, the same user signs in: the server's task only.
  await setNetwork(device, 'online');
  await signIn(page, user);
  await expect.poll(() => taskTitles(page)).toEqual(['Post the letter']);
  await device.context.close();
});
