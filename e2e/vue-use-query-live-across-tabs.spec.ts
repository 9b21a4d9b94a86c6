/**
 * `useQuery` from oversqlite/vue is live across tabs: a write in the follower tab changes the
 * leader's refs and vice versa; a reactive parameter change closes the old query and runs the new
 * one; a failing query sets the `error` ref with its typed code.
 */
import { expect, test } from '@playwright/test';
import { notesSchema } from './page-helpers.ts';
import { openBindingTab } from './binding-page.ts';

test('useQuery refs follow writes from another tab and reactive params', async ({ context }) => {
  const a = await openBindingTab(context, 'vue');
  const b = await openBindingTab(context, 'vue');
  const name = `vue-tabs-${Date.now()}`;
  for (const page of [a, b])
    await page.evaluate(
      async ({ name, schema }) => {
        await window.harness.open({ name, schema });
      },
      { name, schema: notesSchema },
    );
  expect(await b.evaluate((n) => window.harness.db(n).role, name)).toBe('follower');
  await a.evaluate((n) => {
    window.vueHarness.track(n);
  }, name);

  for (const page of [a, b])
    await page.evaluate(
      (n) => window.vueHarness.mountQuery(n, 'notes', 'SELECT seq, body FROM notes WHERE tab = ? ORDER BY seq', ['t1']),
      name,
    );
  expect((await a.evaluate(() => window.vueHarness.records('notes')))[0]).toEqual({ rows: [], loading: true, error: null });
  await a.evaluate(() => window.vueHarness.waitForRecord('notes', 'return !r.loading'));

  await b.evaluate(async (n) => {
    await window.harness.db(n).exec("INSERT INTO notes (tab, seq, body) VALUES ('t1', 1, 'from the follower')");
  }, name);
  await a.evaluate(() => window.vueHarness.waitForRecord('notes', 'return r.rows.length === 1'));
  await a.waitForFunction(() => window.vueHarness.text('notes') === '{"seq":1,"body":"from the follower"}');

  await a.evaluate(async (n) => {
    await window.harness.db(n).exec("INSERT INTO notes (tab, seq, body) VALUES ('t2', 1, 'other tab value')");
  }, name);
  // A new parameter value: the old query closes, the new one runs (one live query open throughout).
  await a.evaluate(() => window.vueHarness.setParams('notes', ['t2']));
  const switched = await a.evaluate(() =>
    window.vueHarness.waitForRecord('notes', "return !r.loading && r.rows[0]?.body === 'other tab value'"),
  );
  expect(switched.rows).toEqual([{ seq: 1, body: 'other tab value' }]);
  expect((await a.evaluate((n) => window.vueHarness.counts(n), name)).liveOpen).toBe(1);

  await b.evaluate(async (n) => {
    await window.harness.db(n).exec("INSERT INTO notes (tab, seq, body) VALUES ('t2', 2, 'second')");
  }, name);
  await a.evaluate(() => window.vueHarness.waitForRecord('notes', 'return r.rows.length === 2'));

  await a.evaluate((n) => window.vueHarness.mountQuery(n, 'bad', 'SELECT nope FROM notes'), name);
  const bad = await a.evaluate(() => window.vueHarness.waitForRecord('bad', 'return !r.loading'));
  expect(bad.error).toMatch(/^sql_error: /);
});
