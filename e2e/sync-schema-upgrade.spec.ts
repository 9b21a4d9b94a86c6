/**
 * Schema upgrades of a synced database across reloads: a data migration that writes a synced table
 * runs (its capture triggers find their SQL function) and is captured as pending change (capture
 * records the key; the push reads the row as the migration left it); a migration that drops a
 * column the triggers read runs too, and capture works afterwards.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import type { AppSchema } from '../src/index.ts';
import { openTab, reloadTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

const v1 = syncAppSchema.migrations[0]!;
const v2: AppSchema = { version: 2, migrations: [v1, "UPDATE items SET body = 'migrated'"] };
const v3: AppSchema = { version: 3, migrations: [...v2.migrations, 'ALTER TABLE items DROP COLUMN n'] };

async function open(page: Page, schema: AppSchema, token: string): Promise<void> {
  await page.evaluate(
    async ({ schema, token }) => {
      await window.harness.openSynced('upgrade', schema, token);
    },
    { schema, token },
  );
}

interface Pending {
  key_json: string;
  op: string;
  payload: string | null;
}

async function pending(page: Page): Promise<Pending[]> {
  return page.evaluate(async () =>
    window.harness.db('upgrade').query<Pending>('SELECT key_json, op, payload FROM _sync_dirty_rows ORDER BY key_json'),
  );
}

async function items(page: Page): Promise<Record<string, unknown>[]> {
  return page.evaluate(async () => window.harness.db('upgrade').query<Record<string, unknown>>('SELECT * FROM items ORDER BY id'));
}

test('synced tables survive data and drop-column migrations, and capture keeps working', async ({ browser }) => {
  const token = signHarnessToken(`upgrade-${Date.now()}`);
  const context = await browser.newContext();
  const page = await openTab(context);

  await open(page, syncAppSchema, token);
  await page.evaluate(async () => {
    await window.harness.db('upgrade').exec("INSERT INTO items (id, body, n) VALUES ('a', 'x', 1)");
  });
  expect((await pending(page)).map((r) => r.key_json)).toEqual(['{"id":"a"}']);

  await reloadTab(page);
  await open(page, v2, token);
  // Still one pending insert, no stored payload: the push reads the row as the migration left it.
  expect(await pending(page)).toEqual([{ key_json: '{"id":"a"}', op: 'INSERT', payload: null }]);
  expect((await items(page)).map((r) => r.body)).toEqual(['migrated']);

  await reloadTab(page);
  await open(page, v3, token);
  await page.evaluate(async () => {
    await window.harness.db('upgrade').exec("INSERT INTO items (id, body) VALUES ('b', 'y')");
  });
  expect(await pending(page)).toEqual([
    { key_json: '{"id":"a"}', op: 'INSERT', payload: null },
    { key_json: '{"id":"b"}', op: 'INSERT', payload: null },
  ]);
  expect(await items(page)).toEqual([
    { id: 'a', body: 'migrated' },
    { id: 'b', body: 'y' },
  ]);
  await context.close();
});
