/**
 * oversqlite/drizzle in a follower tab (its calls run on the leader's worker) and in the leader:
 * inserts with RETURNING, a join whose two `id` columns both come back right, updates, typed
 * columns (boolean and timestamp modes), `.get()`, deletes; `orm.batch([...])` is atomic (a
 * failing statement leaves nothing behind), and Drizzle's interactive `transaction()` (run from
 * the follower, on the leader's worker) reads its own writes, nests a savepoint that rolls back,
 * commits, and rolls back on a throw.
 */
import { expect, test } from '@playwright/test';
import { openBindingTab } from './binding-page.ts';
import { queryBuilderSchema } from './app/query-builders/schema.ts';

test('Drizzle queries, writes and atomic batches work in leader and follower tabs', async ({ context }) => {
  const leader = await openBindingTab(context, 'query-builders');
  const follower = await openBindingTab(context, 'query-builders');
  const name = `drizzle-${Date.now()}`;
  for (const page of [leader, follower])
    await page.evaluate(
      async ({ name, schema }) => {
        await window.harness.open({ name, schema });
      },
      { name, schema: queryBuilderSchema },
    );
  expect(await follower.evaluate((n) => window.harness.db(n).role, name)).toBe('follower');

  for (const [page, prefix] of [
    [follower, 'f'],
    [leader, 'l'],
  ] as const) {
    const result = await page.evaluate(({ name, prefix }) => window.qb.drizzleRoundTrip(name, prefix), { name, prefix });
    expect(result).toEqual({
      list: [{ id: `${prefix}-l`, name: 'Groceries' }],
      changes: 2,
      joined: [
        { todoId: `${prefix}-t1`, listId: `${prefix}-l`, list: 'Groceries', title: 'milk' },
        { todoId: `${prefix}-t2`, listId: `${prefix}-l`, list: 'Groceries', title: 'eggs' },
      ],
      updated: [{ id: `${prefix}-t1`, done: true }],
      typed: { done: true, doneType: 'boolean', createdAtIsDate: true, createdAt: '2026-01-02T03:04:05.000Z' },
      removed: [{ id: `${prefix}-t2` }],
      single: { n: 'milk' },
    });
  }

  const atomic = await follower.evaluate((n) => window.qb.drizzleAtomicity(n, 'fa'), name);
  expect(atomic).toEqual({
    before: 2,
    failed: { error: expect.stringMatching(/^constraint_violation: /), statementIndex: 2 },
    afterFailed: 2,
    listsAfterFailed: 0,
    okSelect: [{ title: 'one' }],
    afterOk: 3,
    committed: [{ id: 'fa-tx1', done: false, createdAt: '1970-01-01T00:00:00.000Z' }],
    rolledBack: 'undo',
    txLists: 1,
    rolledBackLists: 0,
  });
});
