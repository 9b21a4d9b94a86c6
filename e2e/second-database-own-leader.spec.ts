/**
 * Two database names are independent: each gets its own leader (possibly in different tabs) and
 * its own file.
 */
import { expect, test } from '@playwright/test';
import { countNotes, openDb, openTab } from './page-helpers.ts';

test('a second database name gets its own leader', async ({ context }) => {
  const tab1 = await openTab(context);
  const tab2 = await openTab(context);
  expect(await openDb(tab1, 'first')).toBe('leader');
  expect(await openDb(tab2, 'second')).toBe('leader');
  expect(await openDb(tab2, 'first')).toBe('follower');
  expect(await openDb(tab1, 'second')).toBe('follower');
  await tab1.evaluate(async () => {
    await window.harness.db('first').exec("INSERT INTO notes (tab, seq) VALUES ('1', 1)");
  });
  await tab1.evaluate(async () => {
    await window.harness.db('second').exec("INSERT INTO notes (tab, seq) VALUES ('2', 1)");
  });
  await tab2.evaluate(async () => {
    await window.harness.db('second').exec("INSERT INTO notes (tab, seq) VALUES ('2', 2)");
  });
  expect(await countNotes(tab2, 'first')).toBe(1);
  expect(await countNotes(tab1, 'second')).toBe(2);
});
