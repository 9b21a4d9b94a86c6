/**
 * Live queries from query-builder objects: `useQuery(drizzleQuery)` and `useQuery(kyselyQuery)` in
 * oversqlite/react and in oversqlite/vue, and the framework-free `live(db, query, onRows)`, re-run when another tab
 * writes, and deliver the builder's rows: Drizzle's mapped names and types (a join's two tables, a
 * boolean column as `true`/`false`, a timestamp as a Date), Kysely's selected columns. (That the
 * row types are inferred, not `any`, is checked when tsc compiles the page: its `@ts-expect-error`
 * lines.)
 */
import { expect, test } from '@playwright/test';
import { openBindingTab } from './binding-page.ts';
import { queryBuilderSchema } from './app/query-builders/schema.ts';

test("query objects drive live queries with the builders' rows", async ({ context }) => {
  const a = await openBindingTab(context, 'query-builders');
  const b = await openBindingTab(context, 'query-builders');
  const name = `qb-live-${Date.now()}`;
  for (const page of [a, b])
    await page.evaluate(
      async ({ name, schema }) => {
        await window.harness.open({ name, schema });
      },
      { name, schema: queryBuilderSchema },
    );
  await a.evaluate(async (n) => {
    window.qb.registerReactQueries();
    window.reactHarness.mountQueryObject(n, 'drizzle', 'drizzle-todos');
    window.reactHarness.mountQueryObject(n, 'kysely', 'kysely-todos');
    window.vueHarness.mountQueryObject(n, 'vue-drizzle', 'drizzle-todos');
    window.vueHarness.mountQueryObject(n, 'vue-kysely', 'kysely-todos');
    window.qb.startLive(n);
    await window.reactHarness.waitForRender('drizzle', 'return !r.loading');
  }, name);

  // Tab B writes through Drizzle, atomically.
  await b.evaluate((n) => window.qb.drizzleRoundTrip(n, 'x'), name);
  const drizzleRender = await a.evaluate(() =>
    window.reactHarness.waitForRender('drizzle', 'return r.rows.length === 1 && r.rows[0].done === true'),
  );
  expect(drizzleRender.rows).toEqual([{ id: 'x-t1', list: 'Groceries', done: true }]);
  const kyselyRender = await a.evaluate(() =>
    window.reactHarness.waitForRender('kysely', 'return r.rows.length === 1 && r.rows[0].done === 1'),
  );
  expect(kyselyRender.rows).toEqual([{ id: 'x-t1', done: 1 }]);
  const vueDrizzle = await a.evaluate(() =>
    window.vueHarness.waitForRecord('vue-drizzle', 'return r.rows.length === 1 && r.rows[0].done === true'),
  );
  expect(vueDrizzle.rows).toEqual([{ id: 'x-t1', list: 'Groceries', done: true }]);
  const vueKysely = await a.evaluate(() =>
    window.vueHarness.waitForRecord('vue-kysely', 'return r.rows.length === 1 && r.rows[0].done === 1'),
  );
  expect(vueKysely.rows).toEqual([{ id: 'x-t1', done: 1 }]);
  await a.waitForFunction(
    () => window.qb.liveResults('drizzle').at(-1)?.length === 1 && window.qb.liveResults('kysely').at(-1)?.length === 1,
  );
  expect(await a.evaluate(() => window.qb.liveResults('drizzle').at(-1))).toEqual([
    { id: 'x-t1', done: true, createdAt: '2026-01-02T03:04:05.000Z' },
  ]);
  expect(await a.evaluate(() => window.qb.liveResults('kysely').at(-1))).toEqual([{ id: 'x-t1', title: 'milk' }]);

  // And through Kysely.
  await b.evaluate((n) => window.qb.kyselyRoundTrip(n, 'y'), name);
  const after = await a.evaluate(() => window.reactHarness.waitForRender('drizzle', 'return r.rows.length === 2'));
  expect(after.rows).toEqual([
    { id: 'x-t1', list: 'Groceries', done: true },
    { id: 'y-t1', list: 'Work', done: true },
  ]);
  await a.waitForFunction(() => window.qb.liveResults('kysely').at(-1)?.length === 2);
  await a.evaluate(() => window.vueHarness.waitForRecord('vue-drizzle', 'return r.rows.length === 2'));
  expect(await a.evaluate(() => window.harness.errors)).toEqual([]);
});
