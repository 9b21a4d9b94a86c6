/**
 * The browser has a network but the sync server cannot be reached (server down, a captive
 * portal, a broken proxy): the header says "Server unreachable" instead of "Online", the edit
 * stays pending and visible, "Sync now" stays offered, and once the server is back the device
 * sends the edit on its own (its retry backoff, no button pressed), and the other device gets it.
 */
import { expect, test } from '@playwright/test';
import { addTask, expectSynced, taskTitles, twoDevicesSharingAProject } from './demo-page.ts';

test('server unreachable while online: the header says so, edits wait, and go on their own once it is back', async ({ browser }) => {
  const { a, b } = await twoDevicesSharingAProject(browser, 'unreachable', 'Shed', ['Oil the hinges']);

  // The server goes away; the browser still says online, so the engine tries and fails.
  a.link.cut();
  await addTask(a.page, 'Sweep the floor');
  await expect(a.page.getByTestId('connection')).toHaveAttribute('data-state', 'unreachable');
  await expect(a.page.getByTestId('connection')).toHaveText('Server unreachable');
  await expect(a.page.getByTestId('pending-count')).toHaveAttribute('data-count', '1');
  await expect(a.page.getByTestId('sync-button')).toBeEnabled();
  expect(await taskTitles(b.page)).toEqual(['Oil the hinges']);

  // Back: the engine's next retry (backoff from 1 s, here a few seconds) delivers the edit.
  expect(a.link.restore()).toBeGreaterThan(0);
  await expectSynced(a.page);
  await expect(a.page.getByTestId('connection')).toHaveText('Online');
  await expect.poll(() => taskTitles(b.page)).toEqual(['Oil the hinges', 'Sweep the floor']);
  await a.context.close();
  await b.context.close();
});
