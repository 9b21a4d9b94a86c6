/**
 * Two devices (browser contexts with their own OPFS) signed in as the same user, one of them with
 * two tabs: tasks, projects and comments added or edited anywhere reach every other tab and
 * device through the real reference server, in both directions.
 */
import { expect, test } from '@playwright/test';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  addProject,
  addTask,
  expectSynced,
  openDevice,
  renameTask,
  screenshot,
  signIn,
  task,
  taskTitles,
  uniqueUser,
} from './demo-page.ts';

test('tasks added and edited on one device converge on the other, and across tabs', async ({ browser }) => {
  const user = uniqueUser('alice');
  const a = await openDevice(browser, 'A');
  await screenshot(a.page, 'sign-in');
  // A second tab on device A, still at the sign-in screen, follows the sign-in of the first and
  // then shares its database (one tab owns the file, the other calls through it).
  const a2 = await a.context.newPage();
  await a2.goto('/');
  await expect(a2.locator('body')).toHaveAttribute('data-state', 'signin');
  await signIn(a.page, user);
  await expect(a2.locator('body')).toHaveAttribute('data-state', 'app');
  const roles = [await a.page.getByTestId('inspector-role').textContent(), await a2.getByTestId('inspector-role').textContent()];
  expect(roles.sort()).toEqual(['follower', 'leader']);
  await addProject(a.page, 'Launch plan');
  await addTask(a.page, 'Write the announcement', 'High');
  await addTask(a.page, 'Record a demo video', 'Medium');
  await expectSynced(a.page);

  // B signs in as the same user and gets A's data from the server.
  const b = await openDevice(browser, 'B');
  await signIn(b.page, user);
  await expect(b.page.getByTestId('project-title')).toHaveText('Launch plan');
  await expect.poll(() => taskTitles(b.page)).toEqual(['Write the announcement', 'Record a demo video']);
  await expect.poll(() => taskTitles(a2)).toEqual(['Write the announcement', 'Record a demo video']);

  // B edits and adds; both of A's tabs see it without reloading (watch stream + automatic sync).
  await renameTask(b.page, 'Record a demo video', 'Record a 2-minute demo video');
  await addTask(b.page, 'Book the venue', 'Low');
  await expectSynced(b.page);
  const afterB = ['Write the announcement', 'Record a 2-minute demo video', 'Book the venue'];
  await expect.poll(() => taskTitles(a.page)).toEqual(afterB);
  await expect.poll(() => taskTitles(a2)).toEqual(afterB);

  // A's second tab ticks a task done and comments on another; B and A's first tab see both.
  await task(a2, 'Write the announcement').getByTestId('task-done').check();
  await task(a2, 'Book the venue').click();
  await a2.getByTestId('new-comment').fill('Two options near the station.');
  await a2.getByTestId('add-comment').click();
  await a2.getByTestId('detail-due').fill('2030-12-01');
  await expectSynced(a2);
  await expect(task(b.page, 'Write the announcement')).toHaveClass(/\bdone\b/);
  await task(b.page, 'Book the venue').click();
  await expect(b.page.getByTestId('comment')).toHaveText(/Two options near the station\./);
  await expect.poll(() => taskTitles(b.page)).toEqual(['Record a 2-minute demo video', 'Book the venue', 'Write the announcement']);
  await expect(task(a.page, 'Book the venue')).toContainText('1 comment');
  await expect(task(b.page, 'Book the venue')).toContainText('due Dec 1, 2030');

  // Reordering (a REAL position between the neighbours) reaches the other device too.
  await task(a.page, 'Book the venue').hover();
  await task(a.page, 'Book the venue').getByTestId('move-up').click();
  const reordered = ['Book the venue', 'Record a 2-minute demo video', 'Write the announcement'];
  await expect.poll(() => taskTitles(a.page)).toEqual(reordered);
  await expect.poll(() => taskTitles(b.page)).toEqual(reordered);

  // A project created on B shows up on A.
  await addProject(b.page, 'Website refresh');
  await addTask(b.page, 'New landing page copy', 'Medium');
  await expectSynced(b.page);
  await expect(a.page.getByTestId('project').filter({ hasText: 'Website refresh' })).toBeVisible();

  await screenshot(b.page, 'device-b');
  await a2.close();
  await a.page.getByTestId('project').filter({ hasText: 'Launch plan' }).click();
  await task(a.page, 'Book the venue').click();
  await expect(a.page.getByTestId('comment')).toHaveText(/Two options near the station\./);
  const main = await screenshot(a.page, 'device-a');
  // The README picture is refreshed on request only, so test runs leave the working tree clean.
  if (process.env.UPDATE_README_SCREENSHOT === '1') {
    const target = fileURLToPath(new URL('../../docs/images/demo.png', import.meta.url));
    mkdirSync(fileURLToPath(new URL('../../docs/images/', import.meta.url)), { recursive: true });
    copyFileSync(main, target);
  }
  await a.context.close();
  await b.context.close();
});
