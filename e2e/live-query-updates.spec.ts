/**
 * Live queries re-run when a table they read changes, not when an unrelated table changes, and
 * a burst of writes does not cause a storm of re-runs.
 */
import { expect, test } from '@playwright/test';
import { openDb, openTab } from './page-helpers.ts';

test('live queries follow the tables they read, coalesced', async ({ context }) => {
  const page = await openTab(context);
  await openDb(page, 'live');
  await page.evaluate(async () => {
    window.harness.live('live', 'count', 'SELECT count(*) AS c FROM notes');
    await window.harness.waitForLive('count', 'return rows[0].c === 0');
  });
  await page.evaluate(async () => {
    const db = window.harness.db('live');
    await db.exec("INSERT INTO notes (tab, seq) VALUES ('x', 1)");
    await window.harness.waitForLive('count', 'return rows[0].c === 1');
  });
  const runs = await page.evaluate(async () => {
    const db = window.harness.db('live');
    const before = window.harness.liveResults('count').length;
    // A write to a table the query does not read must not re-run it.
    await db.exec('INSERT INTO tags (note_id, tag) VALUES (1, ?)', ['t']);
    // 500 writes awaited one by one: 500 commits, each announced.
    for (let i = 2; i < 502; i++) await db.exec("INSERT INTO notes (tab, seq) VALUES ('x', ?)", [i]);
    await window.harness.waitForLive('count', 'return rows[0].c === 501');
    return window.harness.liveResults('count').length - before;
  });
  // Never more re-runs than commits that touched the table (fewer when commits outpace re-runs).
  console.log(`[live] 500 awaited commits caused ${runs} re-runs`);
  expect(runs).toBeGreaterThanOrEqual(1);
  expect(runs).toBeLessThanOrEqual(500);
  expect(await page.evaluate(() => window.harness.errors)).toEqual([]);
});
