/**
 * A pull that applies many bundles does not cause a storm of live-query re-runs: every bundle is
 * its own commit, but re-runs are coalesced, and the last result is complete.
 */
import { expect, test } from '@playwright/test';
import type { Browser, Page } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { RawSyncClient } from '../test/harness/sync-client.ts';
import { syncPort } from './browser.ts';
import { openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

const BUNDLES = 1000;
const WRITERS = 4;

async function device(browser: Browser, token: string, user: string): Promise<Page> {
  const page = await openTab(await browser.newContext());
  await page.evaluate(
    async ({ schema, token, user }) => {
      await window.harness.openSynced('sync', schema, token);
      await window.harness.db('sync').sync.attach(user);
    },
    { schema: syncAppSchema, token, user },
  );
  return page;
}

test(`a pull of ${BUNDLES} bundles re-runs a live query a few times, not ${BUNDLES}`, async ({ browser }) => {
  test.setTimeout(120_000);
  const user = `storm-${Date.now()}`;
  const token = signHarnessToken(user);
  const reader = await device(browser, token, user);
  await reader.evaluate(() => window.harness.live('sync', 'count', 'SELECT count(*) AS c FROM items'));
  await reader.evaluate(() => window.harness.waitForLive('count', 'return rows[0].c === 0'));

  // Other devices of the user commit one bundle per row, straight over the protocol (a browser
  // device pushing 1,000 times would only make the test slow).
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const writer = new RawSyncClient(`http://127.0.0.1:${syncPort}`, token, `storm-writer-${w}`);
      for (let i = w, sourceBundleId = 1; i < BUNDLES; i += WRITERS, sourceBundleId++) {
        const row = {
          schema: 'e2e',
          table: 'items',
          key: { id: `b${i}` },
          op: 'INSERT' as const,
          base_row_version: 0,
          payload: { id: `b${i}`, body: null, n: String(i) },
        };
        const pushed = await writer.push(sourceBundleId, [row]);
        if (pushed.status !== 200) throw new Error(`push ${i}: ${pushed.status} ${JSON.stringify(pushed.body)}`);
      }
    }),
  );

  const result = await reader.evaluate(async (bundles) => {
    const db = window.harness.db('sync');
    let changes = 0;
    const off = db.on('change', (n) => {
      if (n.tables.includes('items')) changes++;
    });
    const before = window.harness.liveResults('count').length;
    const pulled = await db.sync.pullToStable();
    await window.harness.waitForLive('count', `return rows[0].c === ${bundles}`);
    off();
    return { pulled, changes, reruns: window.harness.liveResults('count').length - before };
  }, BUNDLES);
  console.log(
    `[storm] pull applied ${result.pulled.bundlesApplied} bundles: ${result.changes} change notices, ${result.reruns} live re-runs`,
  );
  expect(result.pulled.bundlesApplied).toBe(BUNDLES);
  expect(result.reruns).toBeGreaterThanOrEqual(1);
  expect(result.reruns).toBeLessThanOrEqual(10);
});
