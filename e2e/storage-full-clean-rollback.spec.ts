/**
 * A full origin quota (forced small with the DevTools protocol) makes writes fail with the typed
 * `storage_full` code and a clean rollback: acknowledged rows stay, the failed write is absent,
 * and the database keeps working once space is freed.
 */
import { expect, test } from '@playwright/test';
import { baseURL } from './browser.ts';
import { openDb, openTab } from './page-helpers.ts';

test('QuotaExceeded on OPFS is storage_full with a clean rollback', async ({ context }) => {
  const page = await openTab(context);
  await openDb(page, 'quota');
  const cdp = await context.newCDPSession(page);
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: baseURL, quotaSize: usage + 3 * 1024 * 1024 });
  const result = await page.evaluate(async () => {
    const db = window.harness.db('quota');
    const chunk = 'x'.repeat(256 * 1024);
    const acked: number[] = [];
    let failure: { code: string; message: string } | undefined;
    for (let i = 0; i < 200 && failure === undefined; i++) {
      try {
        await db.exec('INSERT INTO notes (tab, seq, body) VALUES (?, ?, ?)', ['q', i, chunk]);
        acked.push(i);
      } catch (e) {
        failure = { code: (e as { code: string }).code, message: (e as Error).message };
      }
    }
    const present = (await db.query<{ seq: number }>("SELECT seq FROM notes WHERE tab = 'q' ORDER BY seq")).map((r) => r.seq);
    const integrity = (await db.query<{ integrity_check: string }>('PRAGMA integrity_check'))[0]!.integrity_check;
    const storage = await db.storage();
    return { acked, failure, present, integrity, storage };
  });
  console.log(`[quota] ${result.acked.length} writes acknowledged before: ${result.failure?.code}: ${result.failure?.message}`);
  expect(result.failure?.code).toBe('storage_full');
  expect(result.present).toEqual(result.acked);
  expect(result.integrity).toBe('ok');
  expect(result.storage.quota).not.toBeNull();

  // Free space (lift the override) and keep going.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: baseURL });
  const after = await page.evaluate(async () => {
    const db = window.harness.db('quota');
    await db.exec("INSERT INTO notes (tab, seq, body) VALUES ('q', 1000, 'small')");
    return (await db.query<{ c: number }>("SELECT count(*) AS c FROM notes WHERE tab = 'q'"))[0]!.c;
  });
  expect(after).toBe(result.acked.length + 1);
});
