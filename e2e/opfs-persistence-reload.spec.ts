/**
 * Data written to an OPFS database survives a page reload (same browser context).
 */
import { expect, test } from '@playwright/test';
import './harness-types.ts';

const schema = { version: 1, migrations: ['CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)'] };

test('OPFS data survives a reload', async ({ page }) => {
  await page.goto('/');
  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'ready');
  const written = await page.evaluate(async (s) => {
    await window.harness.open({ name: 'persist', schema: s });
    const db = window.harness.db('persist');
    await Promise.all(Array.from({ length: 50 }, (_, i) => db.exec('INSERT INTO notes (body) VALUES (?)', [`note ${i}`])));
    return (await db.query<{ c: number }>('SELECT count(*) AS c FROM notes'))[0]!.c;
  }, schema);
  expect(written).toBe(50);

  await page.reload();
  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'ready');
  const after = await page.evaluate(async (s) => {
    await window.harness.open({ name: 'persist', schema: s });
    const db = window.harness.db('persist');
    return { count: (await db.query<{ c: number }>('SELECT count(*) AS c FROM notes'))[0]!.c, storage: await db.storage(), role: db.role };
  }, schema);
  expect(after.count).toBe(50);
  expect(after.storage.kind).toBe('opfs');
  expect(after.role).toBe('leader');
});
