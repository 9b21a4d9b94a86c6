/**
 * The sequence other local-first libraries deadlock on: open tab A, open tab B, reload B, focus
 * A. Both tabs must keep reading and writing, and see each other's writes.
 */
import { expect, test } from '@playwright/test';
import { countNotes, openDb, openTab, reloadTab } from './page-helpers.ts';

test('A/B/reload-B/focus-A does not deadlock', async ({ context }) => {
  const a = await openTab(context);
  expect(await openDb(a, 'abrf')).toBe('leader');
  const b = await openTab(context);
  expect(await openDb(b, 'abrf')).toBe('follower');
  await b.evaluate(async () => {
    await window.harness.db('abrf').exec("INSERT INTO notes (tab, seq) VALUES ('b', 1)");
  });
  await reloadTab(b);
  expect(await openDb(b, 'abrf', undefined, 5_000)).toBe('follower');
  await a.bringToFront();
  await a.evaluate(async () => {
    await window.harness.db('abrf').exec("INSERT INTO notes (tab, seq) VALUES ('a', 1)");
  });
  await b.evaluate(async () => {
    await window.harness.db('abrf').exec("INSERT INTO notes (tab, seq) VALUES ('b', 2)");
  });
  expect(await countNotes(a, 'abrf')).toBe(3);
  expect(await countNotes(b, 'abrf')).toBe(3);
  // And the other way round: reload the leader; B takes over, A comes back as a follower.
  await reloadTab(a);
  expect(await openDb(a, 'abrf', undefined, 5_000)).toBe('follower');
  expect(await b.evaluate(() => window.harness.db('abrf').role)).toBe('leader');
  expect(await countNotes(a, 'abrf')).toBe(3);
});
