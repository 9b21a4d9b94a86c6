/**
 * Two browser contexts are two devices of one user. Both edit while offline (including the same
 * row), come back online, sync, and end with exactly PostgreSQL's rows, row by row.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { syncInfoFile } from './browser.ts';
import { openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

type Item = { id: string; body: string | null; n: string | null };

async function localItems(page: Page): Promise<Item[]> {
  return page.evaluate(async () =>
    (
      await window.harness
        .db('sync')
        .query<{ id: string; body: string | null; n: number | bigint | null }>('SELECT id, body, n FROM items ORDER BY id')
    ).map((r) => ({ id: r.id, body: r.body, n: r.n === null ? null : String(r.n) })),
  );
}

async function run(page: Page, sql: string, params: unknown[] = []): Promise<void> {
  await page.evaluate(
    async ({ sql, params }) => {
      await window.harness.db('sync').exec(sql, params as never);
    },
    { sql, params },
  );
}

async function syncNow(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await window.harness.db('sync').sync.sync();
  });
}

test('two devices edit offline, come back, and converge to PostgreSQL row by row', async ({ browser }) => {
  const user = `alice-${Date.now()}`;
  const token = signHarnessToken(user);
  const deviceA = await browser.newContext();
  const deviceB = await browser.newContext();
  const a = await openTab(deviceA);
  const b = await openTab(deviceB);
  for (const page of [a, b]) {
    await page.evaluate(
      async ({ schema, token, user }) => {
        await window.harness.openSynced('sync', schema, token);
        const attached = await window.harness.db('sync').sync.attach(user);
        if (attached.status !== 'connected') throw new Error(`attach: ${JSON.stringify(attached)}`);
      },
      { schema: syncAppSchema, token, user },
    );
  }

  for (let i = 1; i <= 5; i++)
    await run(a, 'INSERT INTO items (id, body, n) VALUES (?, ?, ?)', [`item${i}`, `v1 ${i}`, String(2n ** 62n + BigInt(i))]);
  await syncNow(a);
  await syncNow(b);
  expect(await localItems(b)).toEqual(await localItems(a));

  await deviceA.setOffline(true);
  await deviceB.setOffline(true);
  const offlineAttempt = await a.evaluate(async () => {
    try {
      await window.harness.db('sync').sync.sync();
      return 'synced';
    } catch (e) {
      return `${(e as { code: string }).code}/${(e as { causeCode?: string }).causeCode}`;
    }
  });
  console.log(`[sync] sync while offline: ${offlineAttempt}`);
  expect(offlineAttempt).toMatch(/^sync_failed\//);
  await run(a, "UPDATE items SET body = 'edited on A' WHERE id = 'item1'");
  await run(a, "DELETE FROM items WHERE id = 'item2'");
  await run(a, "INSERT INTO items (id, body, n) VALUES ('fromA', 'new on A', 7)");
  await run(a, "UPDATE items SET body = 'A wins?' WHERE id = 'item4'");
  await run(b, "UPDATE items SET body = 'edited on B' WHERE id = 'item3'");
  await run(b, "INSERT INTO items (id, body, n) VALUES ('fromB', 'new on B', -9223372036854775808)");
  await run(b, "UPDATE items SET body = 'B wins?' WHERE id = 'item4'");
  const pendingA = await a.evaluate(() => window.harness.db('sync').sync.status.get()?.pendingCount ?? -1);
  expect(pendingA).toBeGreaterThanOrEqual(4);

  await deviceA.setOffline(false);
  await deviceB.setOffline(false);
  await syncNow(a);
  await syncNow(b);
  await syncNow(a);

  const info = JSON.parse(readFileSync(syncInfoFile, 'utf8')) as { connectionString: string };
  const client = new pg.Client({ connectionString: info.connectionString });
  await client.connect();
  let server: Item[];
  try {
    const result = await client.query<{ id: string; body: string | null; n: string | null }>(
      'SELECT id, body, n::text AS n FROM e2e.items WHERE _sync_scope_id = $1 ORDER BY id COLLATE "C"',
      [user],
    );
    server = result.rows;
  } finally {
    await client.end();
  }
  const rowsA = await localItems(a);
  const rowsB = await localItems(b);
  console.log(`[sync] converged on ${server.length} rows; item4 = ${JSON.stringify(server.find((r) => r.id === 'item4')?.body)}`);
  expect(rowsA).toEqual(server);
  expect(rowsB).toEqual(server);
  expect(server.map((r) => r.id)).toEqual(['fromA', 'fromB', 'item1', 'item3', 'item4', 'item5']);
  expect(server.find((r) => r.id === 'fromB')?.n).toBe('-9223372036854775808');
  expect(server.find((r) => r.id === 'item1')?.body).toBe('edited on A');
  expect(server.find((r) => r.id === 'item3')?.body).toBe('edited on B');
  for (const page of [a, b]) expect(await page.evaluate(() => window.harness.db('sync').sync.status.get()?.pendingCount)).toBe(0);
  await deviceA.close();
  await deviceB.close();
});
