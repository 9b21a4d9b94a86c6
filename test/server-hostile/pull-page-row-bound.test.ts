// A pull page is built in memory, so its rows are bounded whatever max_bundles asks:
// limits.maxRowsPerPull (25,000 by default) caps the rows of a page of whole bundles; the first
// bundle always fits (a bundle is never split), and has_more says to continue.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tagRows } from '../harness/fault-scenario.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'pull_row_bound', limits: { maxRowsPerPull: 10 } });
});
afterAll(() => h?.close());

it('pages of at most 10 rows of whole bundles; a 15-row bundle comes alone', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('paula'), 'paula-phone');
  await dev.connect(false);
  for (let n = 1; n <= 4; n++) expect((await dev.push(n, tagRows(`b${n}`, 4))).status).toBe(200);
  expect((await dev.push(5, tagRows('big', 15))).status).toBe(200);
  expect((await dev.push(6, tagRows('b6', 1))).status).toBe(200);
  const reader = dev.withSource('paula-laptop');
  const pages: number[][] = [];
  for (let after = 0, more = true; more;) {
    const page = await reader.pull(`?after_bundle_seq=${after}&max_bundles=100`);
    expect(page.status).toBe(200);
    pages.push(page.body.bundles.map((b: { rows: unknown[] }) => b.rows.length));
    after = page.body.bundles[page.body.bundles.length - 1].bundle_seq;
    more = page.body.has_more;
  }
  expect(pages).toEqual([[4, 4], [4, 4], [15], [1]]);
});
