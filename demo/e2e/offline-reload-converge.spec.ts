/**
 * Offline: a device loses the network, keeps editing, reloads the page with no network (the
 * service worker serves the app shell; the data comes from OPFS), edits again, and once back
 * online its changes reach the other device.
 */
import { expect, test } from '@playwright/test';
import {
  addTask,
  expectSynced,
  renameTask,
  screenshot,
  setNetwork,
  task,
  taskTitles,
  twoDevicesSharingAProject,
  waitForServiceWorker,
} from './demo-page.ts';

test('edits made offline, across an offline reload, converge when back online', async ({ browser }) => {
  const { a, b } = await twoDevicesSharingAProject(browser, 'offline', 'Garden', ['Buy seeds', 'Fix the fence']);
  await waitForServiceWorker(a.page);

  // A goes offline and keeps working.
  await setNetwork(a, 'offline');
  await expect(a.page.getByTestId('connection')).toHaveAttribute('data-state', 'offline');
  await renameTask(a.page, 'Buy seeds', 'Buy tomato seeds');
  await addTask(a.page, 'Water the plants', 'High');
  await expect(a.page.getByTestId('pending-count')).not.toHaveAttribute('data-count', '0');

  // Nothing reached B while A was offline.
  await expect.poll(() => taskTitles(b.page)).toEqual(['Buy seeds', 'Fix the fence']);

  // Reload with no network: the service worker serves the app, OPFS still has the data.
  await a.page.reload();
  await expect(a.page.locator('body')).toHaveAttribute('data-state', 'app');
  await expect(a.page.getByTestId('connection')).toHaveAttribute('data-state', 'offline');
  await expect.poll(() => taskTitles(a.page)).toEqual(['Buy tomato seeds', 'Fix the fence', 'Water the plants']);
  await task(a.page, 'Fix the fence').getByTestId('task-done').check();
  await expect(task(a.page, 'Fix the fence')).toHaveClass(/\bdone\b/);
  await expect(a.page.getByTestId('pending-count')).not.toHaveAttribute('data-count', '0');
  await screenshot(a.page, 'offline-after-reload');

  // Still nothing on B: the reloaded page's new database worker is as cut off as the old one (in
  // sessions 19 and 21, with offline emulation as the only cut, B twice had these edits here).
  await b.page.getByTestId('sync-button').click();
  await expect(b.page.getByTestId('sync-button')).toBeEnabled();
  expect(await taskTitles(b.page)).toEqual(['Buy seeds', 'Fix the fence']);

  // Back online: A pushes on its own, B pulls.
  await setNetwork(a, 'online');
  await expectSynced(a.page);
  await expect.poll(() => taskTitles(b.page)).toEqual(['Buy tomato seeds', 'Water the plants', 'Fix the fence']);
  await expect(task(b.page, 'Fix the fence')).toHaveClass(/\bdone\b/);
  await screenshot(b.page, 'after-reconnect');
  await a.context.close();
  await b.context.close();
});
