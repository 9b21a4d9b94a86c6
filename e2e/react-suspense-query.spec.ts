/**
 * `useSuspenseQuery` suspends to the nearest Suspense boundary until the first result, then stays
 * live; a failing query goes to the error boundary with its typed code; and once the suspended
 * component unmounts, no live query is left open.
 */
import { expect, test } from '@playwright/test';
import { notesSchema } from './page-helpers.ts';
import { openBindingTab } from './binding-page.ts';

test('suspends until the first result, stays live, errors reach the boundary', async ({ context }) => {
  const page = await openBindingTab(context, 'react');
  const name = `react-suspense-${Date.now()}`;
  await page.evaluate(
    async ({ name, schema }) => {
      await window.harness.open({ name, schema });
      window.reactHarness.track(name);
      await window.harness.db(name).exec("INSERT INTO notes (tab, seq, body) VALUES ('s', 1, 'first')");
      window.reactHarness.mountSuspense(name, 'susp', 'SELECT body FROM notes ORDER BY seq');
    },
    { name, schema: notesSchema },
  );
  // Every render of the component had the real rows: it never rendered a loading state.
  await page.evaluate(() => window.reactHarness.waitForRender('susp', 'return r.rows.length === 1'));
  expect(await page.evaluate(() => window.reactHarness.renders('susp').every((r) => r.rows.length >= 1))).toBe(true);
  // The render is committed to the DOM just after it ran.
  await page.waitForFunction(() => window.reactHarness.text('susp') === '{"body":"first"}');

  await page.evaluate(async (n) => {
    await window.harness.db(n).exec("INSERT INTO notes (tab, seq, body) VALUES ('s', 2, 'second')");
    await window.reactHarness.waitForRender('susp', 'return r.rows.length === 2');
  }, name);

  await page.evaluate((n) => window.reactHarness.mountSuspense(n, 'broken', 'SELECT body FROM no_such_table'), name);
  await page.waitForFunction(() => window.reactHarness.text('broken').startsWith('error '));
  expect(await page.evaluate(() => window.reactHarness.text('broken'))).toMatch(/^error sql_error: .*no_such_table/);

  await page.evaluate(() => {
    window.reactHarness.unmount('susp');
    window.reactHarness.unmount('broken');
  });
  expect((await page.evaluate((n) => window.reactHarness.counts(n), name)).liveOpen).toBe(0);
});
