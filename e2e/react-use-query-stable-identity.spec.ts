/**
 * `useQuery` does not re-render for nothing: a commit that re-runs the query but leaves its result
 * equal (an UPDATE to the same value) keeps the same snapshot, so React does not render again;
 * when one row changes, the rows that did not change keep their objects (memoised list items stay).
 */
import { expect, test } from '@playwright/test';
import { notesSchema } from './page-helpers.ts';
import { openBindingTab } from './binding-page.ts';

test('an unchanged result renders no more; unchanged rows keep their identity', async ({ context }) => {
  const page = await openBindingTab(context, 'react');
  const name = `react-identity-${Date.now()}`;
  await page.evaluate(
    async ({ name, schema }) => {
      await window.harness.open({ name, schema });
      const db = window.harness.db(name);
      await db.transaction(
        [1, 2, 3].map((seq) => ({ sql: "INSERT INTO notes (tab, seq, body) VALUES ('x', ?, ?)", params: [seq, `n${seq}`] })),
      );
      // A plain live query on the same table shows when a commit has been seen and re-run.
      window.harness.live(name, 'probe', 'SELECT body FROM notes ORDER BY seq');
      window.reactHarness.mountQuery(name, 'list', 'SELECT seq, body FROM notes ORDER BY seq', undefined, false);
      await window.reactHarness.waitForRender('list', 'return r.rows.length === 3');
    },
    { name, schema: notesSchema },
  );
  const rendersBefore = await page.evaluate(() => window.reactHarness.renders('list').length);

  // The same value written again: a commit on the table, an equal result.
  await page.evaluate(async (n) => {
    const db = window.harness.db(n);
    const probeRuns = window.harness.liveResults('probe').length;
    await db.exec('UPDATE notes SET body = body WHERE seq = 2');
    await db.exec("UPDATE notes SET body = 'n2' WHERE seq = 2");
    // The probe re-ran for both commits (so the hook's query did too) ...
    await window.harness.waitForLive('probe', `return true`);
    for (let i = 0; i < 50 && window.harness.liveResults('probe').length < probeRuns + 2; i++)
      await new Promise((r) => requestAnimationFrame(r));
    // ... and a frame later React has had every chance to render.
    await new Promise((r) => requestAnimationFrame(r));
  }, name);
  const probeRuns = await page.evaluate(() => window.harness.liveResults('probe').length);
  expect(probeRuns).toBeGreaterThanOrEqual(3);
  expect(await page.evaluate(() => window.reactHarness.renders('list').length)).toBe(rendersBefore);

  // One row changes: a new array, but rows 1 and 3 are the objects of the previous render.
  await page.evaluate(async (n) => {
    await window.harness.db(n).exec("UPDATE notes SET body = 'changed' WHERE seq = 2");
    await window.reactHarness.waitForRender('list', "return r.rows[1].body === 'changed'");
  }, name);
  const identity = await page.evaluate(() => {
    const renders = window.reactHarness.renders('list');
    const previous = renders.length - 2;
    return {
      sameArray: window.reactHarness.sameRowsArray('list').at(-1),
      row0: window.reactHarness.sameRowObject('list', previous, 0),
      row1: window.reactHarness.sameRowObject('list', previous, 1),
      row2: window.reactHarness.sameRowObject('list', previous, 2),
    };
  });
  expect(identity).toEqual({ sameArray: false, row0: true, row1: false, row2: true });
});
