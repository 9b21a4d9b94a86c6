/**
 * What the sign-out specs check after a detach: every tab of the device is signed out, and what a
 * fresh device of the same user finds on the server.
 */
import { expect } from '@playwright/test';
import type { Browser, Page } from '@playwright/test';
import { openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

/** Every tab reports no user, and none remembers the last one. */
export async function expectSignedOutEverywhere(tabs: readonly Page[]): Promise<void> {
  for (const tab of tabs) {
    await expect.poll(() => tab.evaluate(() => window.harness.db('sync').sync.status.get()?.userId)).toBeNull();
    expect(await tab.evaluate(() => window.harness.lastAttachedUser('sync'))).toBeNull();
  }
}

/** Signs `user` in on a new device (browser context) and returns the item ids it gets. */
export async function itemIdsOnAnotherDevice(browser: Browser, token: string, user: string): Promise<string[]> {
  const other = await browser.newContext();
  try {
    const tab = await openTab(other);
    const rows = await tab.evaluate(
      async ({ schema, token, user }) => {
        await window.harness.openSynced('sync', schema, token);
        const db = window.harness.db('sync');
        await db.sync.attach(user);
        return db.query<{ id: string }>('SELECT id FROM items ORDER BY id');
      },
      { schema: syncAppSchema, token, user },
    );
    return rows.map((r) => r.id);
  } finally {
    await other.close();
  }
}
