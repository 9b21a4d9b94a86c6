/**
 * Where OPFS is missing, opening a durable database fails with `opfs_unavailable`: never a silent
 * switch to an empty in-memory database. The app can then choose `storage: 'memory'` explicitly.
 */
import { expect, test } from '@playwright/test';
import { notesSchema, openTab } from './page-helpers.ts';

test('missing OPFS is opfs_unavailable, not a silent empty database', async ({ context }) => {
  const page = await openTab(context);
  expect(await page.evaluate((schema) => window.harness.openWithoutOpfs('noopfs', schema), notesSchema)).toBe('opfs_unavailable');
});
