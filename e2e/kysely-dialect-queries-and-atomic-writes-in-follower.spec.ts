/**
 * oversqlite/kysely in a follower tab and in the leader: inserts, a join with aliased columns,
 * updates with affected-row counts, DELETE ... RETURNING, introspection; `executeAtomically`
 * commits several queries all or none, and Kysely's interactive `transaction()` (run from the
 * follower, on the leader's worker) reads its own writes, commits, and rolls back on a throw.
 */
import { expect, test } from '@playwright/test';
import { openBindingTab } from './binding-page.ts';
import { queryBuilderSchema } from './app/query-builders/schema.ts';

test('Kysely queries, writes and atomic writes work in leader and follower tabs', async ({ context }) => {
  const leader = await openBindingTab(context, 'query-builders');
  const follower = await openBindingTab(context, 'query-builders');
  const name = `kysely-${Date.now()}`;
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
    const result = await page.evaluate(({ name, prefix }) => window.qb.kyselyRoundTrip(name, prefix), { name, prefix });
    expect(result).toEqual({
      insertedRows: '1',
      joined: [
        { todoId: `${prefix}-t1`, listId: `${prefix}-l`, list: 'Work', title: 'mail' },
        { todoId: `${prefix}-t2`, listId: `${prefix}-l`, list: 'Work', title: 'call' },
      ],
      updatedRows: '1',
      returning: [{ id: `${prefix}-t2`, title: 'call' }],
      tables: ['lists', 'todos'],
    });
  }

  const atomic = await follower.evaluate((n) => window.qb.kyselyAtomicity(n, 'fa'), name);
  expect(atomic).toEqual({
    before: 2,
    failed: { error: expect.stringMatching(/^constraint_violation: /), statementIndex: 2 },
    afterFailed: 2,
    okSelect: [{ title: 'one' }],
    okInsertRows: '1',
    afterOk: 3,
    committed: [{ id: 'fa-tx1', done: 1 }],
    rolledBack: 'undo',
    txLists: 1,
    rolledBackLists: 0,
  });
});
