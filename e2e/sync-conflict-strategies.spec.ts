/**
 * A conflict (two devices edit the same row from the same base) resolves by the configured
 * strategy: client-wins keeps the later pusher's row; a custom resolver running on the main
 * thread merges both. The app gets a conflict event either way.
 */
import { expect, test } from '@playwright/test';
import type { Browser, Page } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

async function device(browser: Browser, token: string, user: string, conflicts: 'client-wins' | 'merge-bodies'): Promise<Page> {
  const page = await openTab(await browser.newContext());
  await page.evaluate(
    async ({ schema, token, user, conflicts }) => {
      await window.harness.openSynced('sync', schema, token, conflicts);
      await window.harness.db('sync').sync.attach(user);
    },
    { schema: syncAppSchema, token, user, conflicts },
  );
  return page;
}

async function edit(page: Page, body: string): Promise<void> {
  await page.evaluate(async (body) => {
    await window.harness.db('sync').exec("UPDATE items SET body = ? WHERE id = 'shared'", [body]);
  }, body);
}

async function syncAndRead(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const db = window.harness.db('sync');
    await db.sync.sync();
    return (await db.query<{ body: string }>("SELECT body FROM items WHERE id = 'shared'"))[0]!.body;
  });
}

for (const [strategy, expected] of [
  ['client-wins', 'from B'],
  ['merge-bodies', 'from A|from B'],
] as const) {
  test(`conflict resolved by ${strategy}`, async ({ browser }) => {
    const user = `conflict-${strategy}-${Date.now()}`;
    const token = signHarnessToken(user);
    const a = await device(browser, token, user, strategy);
    const b = await device(browser, token, user, strategy);
    await a.evaluate(async () => {
      await window.harness.db('sync').exec("INSERT INTO items (id, body) VALUES ('shared', 'base')");
    });
    await syncAndRead(a);
    expect(await syncAndRead(b)).toBe('base');

    await edit(a, 'from A');
    await edit(b, 'from B');
    expect(await syncAndRead(a)).toBe('from A');
    const onB = await syncAndRead(b);
    expect(onB).toBe(expected);
    expect(await syncAndRead(a)).toBe(expected);
    const events = await b.evaluate(() => window.harness.conflicts('sync'));
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events[0]).toMatchObject({ table: 'items', key: 'shared', resolution: strategy === 'client-wins' ? 'local' : 'merged' });
  });
}
