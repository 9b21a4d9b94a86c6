/**
 * A device adds a task (with a comment) offline to a project another device deletes meanwhile.
 * Back online, the server's deletion wins: the new task and its comment are removed, and the
 * device says so in a notice naming the task and why, since it vanished from the list.
 */
import { expect, test } from '@playwright/test';
import { addTask, expectSynced, setNetwork, task, twoDevicesSharingAProject } from './demo-page.ts';

test('a task added offline to a project deleted elsewhere is removed, and a notice says which and why', async ({ browser }) => {
  const { a, b } = await twoDevicesSharingAProject(browser, 'lost', 'Garden', ['Buy seeds']);

  // A, offline, adds a task and comments on it.
  await setNetwork(a, 'offline');
  await addTask(a.page, 'Plant bulbs');
  await task(a.page, 'Plant bulbs').click();
  await a.page.getByTestId('new-comment').fill('Tulips by the fence');
  await a.page.getByTestId('add-comment').click();
  await expect(a.page.getByTestId('comment')).toHaveCount(1);

  // Meanwhile B deletes the project.
  b.page.once('dialog', (dialog) => void dialog.accept());
  await b.page.getByTestId('delete-project').click();
  await expect(b.page.getByTestId('project')).toHaveCount(0);
  await expectSynced(b.page);

  // A comes back: the deletion wins, and A is told what went.
  await setNetwork(a, 'online');
  await expectSynced(a.page);
  await expect(a.page.getByTestId('project')).toHaveCount(0);
  const notice = a.page.getByTestId('notice-conflict');
  await expect(notice).toHaveCount(1);
  await expect(notice).toContainText('Task “Plant bulbs” and 1 more removed');
  await expect(notice).toContainText('It went with its project, deleted on another device.');
  // The task that was already synced went too, as any deletion from another device does: logged, no notice.
  await expect(a.page.getByTestId('inspector-log')).toContainText('removed (cascade, pending INSERT)');
  await expect(b.page.getByTestId('project')).toHaveCount(0);
  await a.context.close();
  await b.context.close();
});
