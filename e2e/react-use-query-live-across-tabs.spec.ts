/**
 * `useQuery` from oversqlite/react is live across tabs: a write in another tab (the follower,
 * whose writes run on the leader's worker) re-renders the component, which shows loading first,
 * then the rows; a bad query renders a typed error instead of throwing.
 */
import { expect, test } from '@playwright/test';
import { notesSchema } from './page-helpers.ts';
import { openBindingTab } from './binding-page.ts';

test('useQuery re-renders with writes from another tab', async ({ context }) => {
  const a = await openBindingTab(context, 'react');
  const b = await openBindingTab(context, 'react');
  const name = `react-tabs-${Date.now()}`;
  await a.evaluate(
    async ({ name, schema }) => {
      await window.harness.open({ name, schema });
    },
    { name, schema: notesSchema },
  );
  await b.evaluate(
    async ({ name, schema }) => {
      await window.harness.open({ name, schema });
    },
    { name, schema: notesSchema },
  );
  expect(await b.evaluate((n) => window.harness.db(n).role, name)).toBe('follower');

  await a.evaluate(
    (n) => window.reactHarness.mountQuery(n, 'notes', 'SELECT seq, body FROM notes WHERE tab = ? ORDER BY seq', ['b']),
    name,
  );
  await b.evaluate(
    (n) => window.reactHarness.mountQuery(n, 'notes', 'SELECT seq, body FROM notes WHERE tab = ? ORDER BY seq', ['b']),
    name,
  );
  const first = await a.evaluate(() => window.reactHarness.waitForRender('notes', 'return !r.loading'));
  expect(first).toEqual({ rows: [], loading: false, error: null });
  expect((await a.evaluate(() => window.reactHarness.renders('notes')))[0]).toEqual({ rows: [], loading: true, error: null });

  await b.evaluate(async (n) => {
    await window.harness.db(n).exec("INSERT INTO notes (tab, seq, body) VALUES ('b', 1, 'from the follower')");
  }, name);
  await a.evaluate(() => window.reactHarness.waitForRender('notes', 'return r.rows.length === 1'));
  expect(await a.evaluate(() => window.reactHarness.text('notes'))).toBe('{"seq":1,"body":"from the follower"}');

  await a.evaluate(async (n) => {
    await window.harness.db(n).exec("INSERT INTO notes (tab, seq, body) VALUES ('b', 2, 'from the leader')");
  }, name);
  const onFollower = await b.evaluate(() => window.reactHarness.waitForRender('notes', 'return r.rows.length === 2'));
  expect(onFollower.rows).toEqual([
    { seq: 1, body: 'from the follower' },
    { seq: 2, body: 'from the leader' },
  ]);

  // A failing query is state, not an exception: the component renders the typed error.
  await a.evaluate((n) => window.reactHarness.mountQuery(n, 'bad', 'SELECT nope FROM notes'), name);
  const bad = await a.evaluate(() => window.reactHarness.waitForRender('bad', 'return !r.loading'));
  expect(bad.error).toMatch(/^sql_error: /);
  expect(bad.rows).toEqual([]);
});
