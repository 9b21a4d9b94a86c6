/**
 * What a first-time user meets: with no project the task form is not offered and the page says
 * why; a project's badge says what it counts; an open task past its due date is marked overdue;
 * renaming is offered by a visible control; after a reload the header still knows when the device
 * last synced; and a blocked sign-out counts "1 local change" in the singular.
 */
import { expect, test } from '@playwright/test';
import { addProject, addTask, expectSynced, openDevice, setNetwork, signIn, task, uniqueUser, waitForServiceWorker } from './demo-page.ts';

test('first use: no-project hint, labelled badge, overdue mark, rename control, remembered last sync, singular notice', async ({
  browser,
}) => {
  const device = await openDevice(browser, 'first-use');
  const { page } = device;
  await signIn(page, uniqueUser('first-use'));

  // No project yet: no task form to type into, and a sentence saying what to do.
  await expect(page.getByTestId('new-task-title')).toBeHidden();
  await expect(page.getByTestId('no-project')).toHaveText(/create one under Projects/);

  await addProject(page, 'Errands');
  await addTask(page, 'Renew the passport');
  await addTask(page, 'Buy stamps');
  await expect(page.getByTestId('project-open-count')).toHaveText('2 open');
  await task(page, 'Buy stamps').getByTestId('task-done').check();
  await expect(page.getByTestId('project-open-count')).toHaveText('1 open');

  // Due yesterday and open: marked overdue in the list.
  await task(page, 'Renew the passport').click();
  const yesterday = new Date(Date.now() - 86_400_000);
  const day = `${yesterday.getFullYear()}-${String(yesterday.getMonth() + 1).padStart(2, '0')}-${String(yesterday.getDate()).padStart(2, '0')}`;
  await page.getByTestId('detail-due').fill(day);
  await page.getByTestId('detail-due').blur();
  await expect(task(page, 'Renew the passport').getByTestId('task-overdue')).toHaveText(/^overdue · /);

  // Rename through the visible control.
  await page.getByTestId('rename-task').click();
  await expect(page.getByTestId('detail-title')).toBeFocused();
  await page.keyboard.type('Renew the passport (urgent)');
  await page.keyboard.press('Enter');
  await expect(task(page, 'Renew the passport (urgent)')).toBeVisible();
  await expectSynced(page);
  await expect(page.getByTestId('last-sync')).toHaveText(/^synced /);

  // A reload starts a new session of the engine. Offline, so the engine cannot sync in it: the
  // header still knows the last sync from before, while the engine's own status has none yet.
  await waitForServiceWorker(page);
  await setNetwork(device, 'offline');
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'app');
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'offline');
  await expect(page.getByTestId('inspector-last-sync')).toHaveText('not yet in this session');
  await expect(page.getByTestId('last-sync')).toHaveText(/^synced (just now|\d+ s ago)$/);

  // Offline with one change, sign-out is refused with the count in the singular.
  await task(page, 'Buy stamps').getByTestId('task-done').uncheck();
  await expect(page.getByTestId('pending-count')).toHaveAttribute('data-count', '1');
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('notice-info')).toContainText('1 local change is not on the server yet');
  await setNetwork(device, 'online');
  await expectSynced(page);
  await device.context.close();
});
