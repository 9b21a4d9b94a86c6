/**
 * Three tabs of one context share one database: one leader, two followers; a write from each
 * tab is seen by live queries in the other two.
 */
import { expect, test } from '@playwright/test';
import { openDb, openTab } from './page-helpers.ts';

test('writes from each of three tabs reach live queries in the other two', async ({ context }) => {
  const tabs = [await openTab(context), await openTab(context), await openTab(context)];
  const roles = [];
  for (const tab of tabs) roles.push(await openDb(tab, 'three'));
  expect(roles).toEqual(['leader', 'follower', 'follower']);
  for (const [i, tab] of tabs.entries()) {
    await tab.evaluate((i) => window.harness.live('three', 'mine', 'SELECT tab, seq FROM notes ORDER BY tab, seq'), i);
  }
  for (const [i, tab] of tabs.entries()) {
    await tab.evaluate(async (i) => {
      await window.harness.db('three').exec('INSERT INTO notes (tab, seq) VALUES (?, ?)', [`tab${i}`, i]);
    }, i);
  }
  for (const tab of tabs) {
    const rows = await tab.evaluate(() => window.harness.waitForLive('mine', 'return rows.length === 3'));
    expect(rows).toEqual([
      { tab: 'tab0', seq: 0 },
      { tab: 'tab1', seq: 1 },
      { tab: 'tab2', seq: 2 },
    ]);
  }
});
