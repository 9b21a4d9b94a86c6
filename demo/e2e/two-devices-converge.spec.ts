/**
 * Two devices (browser contexts with their own OPFS) signed in as the same user: tasks added and
 * edited on one appear on the other through the real reference server, in both directions.
 */
import { expect, test } from '@playwright/test';
import { addProject, addTask, expectSynced, openDevice, renameTask, screenshot, signIn, task, taskTitles, uniqueUser } from './demo-page.ts';

test('tasks added and edited on one device converge on the other', async ({ browser }) => {
  const user = uniqueUser('converge');
  const a = await openDevice(browser, 'A');
  await screenshot(a.page, 'sign-in');
  await signIn(a.page, user);
  await addProject(a.page, 'Launch plan');
  await addTask(a.page, 'Write the announcement', 'High');
  await addTask(a.page, 'Record a demo video', 'Medium');
  await expectSynced(a.page);

  // B signs in as the same user and gets A's data from the server.
  const b = await openDevice(browser, 'B');
  await signIn(b.page, user);
  await expect(b.page.getByTestId('project-title')).toHaveText('Launch plan');
  await expect.poll(() => taskTitles(b.page)).toEqual(['Write the announcement', 'Record a demo video']);

  // B edits and adds; A sees it without reloading (watch stream + automatic sync).
  await renameTask(b.page, 'Record a demo video', 'Record a 2-minute demo video');
  await addTask(b.page, 'Book the venue', 'Low');
  await expectSynced(b.page);
  await expect.poll(() => taskTitles(a.page)).toEqual(['Write the announcement', 'Record a 2-minute demo video', 'Book the venue']);

  // A ticks a task done and comments on it; B sees both.
  await task(a.page, 'Write the announcement').getByTestId('task-done').check();
  await task(a.page, 'Book the venue').click();
  await a.page.getByTestId('new-comment').fill('Two options near the station.');
  await a.page.getByTestId('add-comment').click();
  await expectSynced(a.page);
  await expect(task(b.page, 'Write the announcement')).toHaveClass(/\bdone\b/);
  await task(b.page, 'Book the venue').click();
  await expect(b.page.getByTestId('comment')).toHaveText(/Two options near the station\./);
  await expect.poll(() => taskTitles(b.page)).toEqual(['Record a 2-minute demo video', 'Book the venue', 'Write the announcement']);

  await screenshot(a.page, 'device-a');
  await screenshot(b.page, 'device-b');
  await a.context.close();
  await b.context.close();
});
