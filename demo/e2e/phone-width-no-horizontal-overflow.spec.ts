/**
 * At 390 px (a phone; a PWA must work there) the demo fits the screen: the page is no wider than
 * the viewport, no element sticks out to the right, the header's actions are on screen, and task
 * titles keep whole words on a line. Saves e2e/output/demo/phone-390.png.
 */
import { expect, test } from '@playwright/test';
import { addProject, addTask, expectSynced, openDevice, screenshot, signIn, task, uniqueUser } from './demo-page.ts';

test('at 390 px the page has no horizontal overflow and the header actions are on screen', async ({ browser }) => {
  const device = await openDevice(browser, 'phone');
  const { page } = device;
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, uniqueUser('phone-with-a-long-user-name'));
  await addProject(page, 'Launch plan for the spring release');
  await addTask(page, 'Record a 2-minute demo video for the announcement', 'High');
  await addTask(page, 'Book the venue');
  await task(page, 'Book the venue').click();
  await page.getByTestId('detail-due').fill('2020-01-01');
  await page.getByTestId('detail-due').blur();
  await page.getByTestId('new-comment').fill('Two options near the station.');
  await page.getByTestId('add-comment').click();
  await expect(page.getByTestId('comment')).toHaveCount(1);
  await expectSynced(page);

  const layout = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const outside = [...document.querySelectorAll('body *')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.right > width + 0.5;
      })
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    // A title squeezed to a few px wraps letter by letter: every word must fit on its line.
    const titleWidths = [...document.querySelectorAll('[data-testid="task-title"]')].map((el) => el.getBoundingClientRect().width);
    return { width, scrollWidth: document.documentElement.scrollWidth, outside, narrowestTitle: Math.min(...titleWidths) };
  });
  console.log(`[phone] ${JSON.stringify(layout)}`);
  expect(layout.width).toBe(390);
  expect(layout.scrollWidth).toBeLessThanOrEqual(390);
  expect(layout.outside).toEqual([]);
  expect(layout.narrowestTitle).toBeGreaterThan(200);
  for (const id of ['sync-button', 'user', 'sign-out', 'connection', 'pending-count', 'last-sync']) {
    await expect(page.getByTestId(id)).toBeInViewport({ ratio: 1 });
  }
  await screenshot(page, 'phone-390');
  await device.context.close();
});
