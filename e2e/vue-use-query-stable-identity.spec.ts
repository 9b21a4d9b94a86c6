/**
 * A Vue `useQuery` whose re-run returns an equal result does not change its `rows` ref, so the
 * component does not re-render; when one row changes, the unchanged rows keep their objects.
 */
import { expect, test } from '@playwright/test';
import { notesSchema } from './page-helpers.ts';
import { openBindingTab } from './binding-page.ts';

test('an equal result leaves the rows ref alone; unchanged rows keep identity', async ({ context }) => {
  const page = await openBindingTab(context, 'vue');
  const name = `vue-identity-${Date.now()}`;
  await page.evaluate(
    async ({ name, schema }) => {
      await window.harness.open({ name, schema });
      const db = window.harness.db(name);
      await db.transaction(
        [1, 2, 3].map((seq) => ({ sql: "INSERT INTO notes (tab, seq, body) VALUES ('x', ?, ?)", params: [seq, `n${seq}`] })),
      );
      window.harness.live(name, 'probe', 'SELECT body FROM notes ORDER BY seq');
      window.vueHarness.mountQuery(name, 'list', 'SELECT seq, body FROM notes ORDER BY seq');
      await window.vueHarness.waitForRecord('list', 'return r.rows.length === 3');
    },
    { name, schema: notesSchema },
  );
  await page.waitForFunction(() => window.vueHarness.text('list').includes('n3'));
  const before = await page.evaluate(() => ({
    records: window.vueHarness.records('list').length,
    renders: window.vueHarness.renderCount('list'),
  }));

  await page.evaluate(async (n) => {
    const db = window.harness.db(n);
    const probeRuns = window.harness.liveResults('probe').length;
    await db.exec('UPDATE notes SET body = body WHERE seq = 2');
    await db.exec("UPDATE notes SET body = 'n2' WHERE seq = 2");
    for (let i = 0; i < 50 && window.harness.liveResults('probe').length < probeRuns + 2; i++)
      await new Promise((r) => requestAnimationFrame(r));
    await new Promise((r) => requestAnimationFrame(r));
  }, name);
  expect(await page.evaluate(() => window.harness.liveResults('probe').length)).toBeGreaterThanOrEqual(3);
  expect(
    await page.evaluate(() => ({ records: window.vueHarness.records('list').length, renders: window.vueHarness.renderCount('list') })),
  ).toEqual(before);

  await page.evaluate(async (n) => {
    await window.harness.db(n).exec("UPDATE notes SET body = 'changed' WHERE seq = 2");
    await window.vueHarness.waitForRecord('list', "return r.rows[1].body === 'changed'");
  }, name);
  const identity = await page.evaluate(() => {
    const records = window.vueHarness.records('list');
    const [prev, last] = [records.at(-2)!, records.at(-1)!];
    return {
      sameArray: prev.rows === last.rows,
      row0: prev.rows[0] === last.rows[0],
      row1: prev.rows[1] === last.rows[1],
      row2: prev.rows[2] === last.rows[2],
    };
  });
  expect(identity).toEqual({ sameArray: false, row0: true, row1: false, row2: true });
});
