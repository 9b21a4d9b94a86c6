/**
 * The browser has a network but the sync server cannot be reached (server down, a captive
 * portal, a broken proxy): the header says "Server unreachable" instead of "Online", edits stay
 * pending and visible, and once the server is back one "Sync now" sends them to the other device.
 */
import { expect, test } from '@playwright/test';
import { addTask, expectSynced, taskTitles, twoDevicesSharingAProject } from './demo-page.ts';

test('server unreachable while online: the header says so, edits wait, Sync now delivers them', async ({ browser }) => {
  const { a, b } = await twoDevicesSharingAProject(browser, 'unreachable', 'Shed', ['Oil the hinges']);

  // The server goes away; the browser still says online, so the engine tries and fails.
  a.link.cut();
  await addTask(a.page, 'Sweep the floor');
  await expect(a.page.getByTestId('connection')).toHaveAttribute('data-state', 'unreachable');
  await expect(a.page.getByTestId('connection')).toHaveText('Server unreachable');
  await expect(a.page.getByTestId('pending-count')).toHaveAttribute('data-count', '1');
  await expect(a.page.getByTestId('sync-button')).toBeEnabled();
  expect(await taskTitles(b.page)).toEqual(['Oil the hinges']);

  // Back: one press of "Sync now" delivers the edit and the header says online again.
  expect(a.link.restore()).toBeGreaterThan(0);
  await a.page.getByTestId('sync-button').click();
  await expectSynced(a.page);
  await expect(a.page.getByTestId('connection')).toHaveText('Online');
  await expect.poll(() => taskTitles(b.page)).toEqual(['Oil the hinges', 'Sweep the floor']);
  await a.context.close();
  await b.context.close();
});
