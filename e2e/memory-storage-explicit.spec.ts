/**
 * The explicit in-memory mode: works fully, says it is not durable, is private to its tab (no
 * leader, no sharing), and is empty again after a reload, as the app asked.
 */
import { expect, test } from '@playwright/test';
import { notesSchema, openTab, reloadTab } from './page-helpers.ts';

test("storage: 'memory' is explicit, private to the tab and not durable", async ({ context }) => {
  const a = await openTab(context);
  const b = await openTab(context);
  const open = (page: typeof a) => page.evaluate((schema) => window.harness.open({ name: 'mem', schema, storage: 'memory' }), notesSchema);
  expect((await open(a)).role).toBe('leader');
  expect((await open(b)).role).toBe('leader'); // private: each tab has its own
  const seen = await a.evaluate(async () => {
    const db = window.harness.db('mem');
    await db.exec("INSERT INTO notes (tab, seq) VALUES ('a', 1)");
    return { count: (await db.query<{ c: number }>('SELECT count(*) AS c FROM notes'))[0]!.c, storage: await db.storage() };
  });
  expect(seen.count).toBe(1);
  expect(seen.storage).toMatchObject({ kind: 'memory', persisted: false });
  expect(await b.evaluate(async () => (await window.harness.db('mem').query<{ c: number }>('SELECT count(*) AS c FROM notes'))[0]!.c)).toBe(
    0,
  );
  await reloadTab(a);
  await open(a);
  expect(await a.evaluate(async () => (await window.harness.db('mem').query<{ c: number }>('SELECT count(*) AS c FROM notes'))[0]!.c)).toBe(
    0,
  );
});
