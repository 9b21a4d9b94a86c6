/**
 * Conflicts: both devices change the same tasks while one is offline. When it reconnects, its
 * pushes conflict; the demo's resolver keeps whichever edit is later (by `updated_at`) and a
 * deletion on the server over an edit, the app shows a notice saying which version was kept, and
 * both devices end up with the same tasks.
 */
import { expect, test } from '@playwright/test';
import { expectSynced, renameTask, screenshot, setNetwork, task, taskTitles, twoDevicesSharingAProject } from './demo-page.ts';

test('the later edit wins a conflict, the notice says so, and both devices converge', async ({ browser }) => {
  const { a, b } = await twoDevicesSharingAProject(browser, 'conflict', 'Trip', ['Book flights', 'Find a hotel', 'Pack the bags']);

  await setNetwork(a, 'offline');
  await expect(a.page.getByTestId('connection')).toHaveAttribute('data-state', 'offline');
  // Flights: A first (offline), then B. Hotel: B first, then A (offline). Bags: A edits, B deletes.
  await renameTask(a.page, 'Book flights', 'Book flights (A)');
  await renameTask(b.page, 'Book flights', 'Book flights (B)');
  await renameTask(b.page, 'Find a hotel', 'Find a hotel (B)');
  await renameTask(a.page, 'Pack the bags', 'Pack the bags (A)');
  await task(b.page, 'Pack the bags').click();
  await b.page.getByTestId('delete-task').click();
  await expect(task(b.page, 'Pack the bags')).toHaveCount(0);
  await expectSynced(b.page);
  await renameTask(a.page, 'Find a hotel', 'Find a hotel (A)');

  await setNetwork(a, 'online');
  await expectSynced(a.page);
  const conflicts = a.page.getByTestId('notice-conflict');
  await expect(conflicts).toHaveCount(3);
  await expect(conflicts.filter({ hasText: 'Book flights (B)' })).toContainText('the other device’s version was kept');
  await expect(conflicts.filter({ hasText: 'Find a hotel (A)' })).toContainText('your version was kept');
  await expect(conflicts.filter({ hasText: 'Pack the bags (A)' })).toContainText('another device deleted it');
  await expect(a.page.getByTestId('inspector-log')).toContainText('tasks');

  const expected = ['Book flights (B)', 'Find a hotel (A)'];
  await expect.poll(() => taskTitles(a.page)).toEqual(expected);
  await expect.poll(() => taskTitles(b.page)).toEqual(expected);
  await screenshot(a.page, 'conflict-notice');
  await a.context.close();
  await b.context.close();
});
