/**
 * The sign-out specs' scene and checks: a device with a leader and a follower tab on the synced
 * database; after a detach, every tab signed out, and what a fresh device of the same user finds
 * on the server.
 */
import { expect } from '@playwright/test';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

/** A new device (browser context) with two tabs on the synced database: `tabs[1]` is the follower. */
export async function deviceWithTwoTabs(browser: Browser, token: string): Promise<{ device: BrowserContext; tabs: Page[] }> {
  const device = await browser.newContext();
  const tabs = [await openTab(device), await openTab(device)];
  for (const tab of tabs) {
    await tab.evaluate(async ({ schema, token }) => window.harness.openSynced('sync', schema, token), { schema: syncAppSchema, token });
  }
  expect(await tabs[1]!.evaluate(() => window.harness.db('sync').role)).toBe('follower');
  return { device, tabs };
}

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
