/**
 * A fresh device of a user who already has 10,000 rows on the server hydrates them all from a
 * chunked snapshot when it attaches, reporting progress in the sync status along the way.
 */
import { expect, test } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { openTab } from './page-helpers.ts';
import { syncAppSchema } from './sync-schema.ts';

test('a fresh device hydrates 10,000 rows with progress events', async ({ browser }) => {
  test.setTimeout(120_000);
  const user = `hydrate-${Date.now()}`;
  const token = signHarnessToken(user);
  const first = await browser.newContext();
  const writer = await openTab(first);
  const pushed = await writer.evaluate(
    async ({ schema, token, user }) => {
      await window.harness.openSynced('sync', schema, token);
      const db = window.harness.db('sync');
      await db.sync.attach(user);
      await db.transaction(
        Array.from({ length: 10_000 }, (_, i) => ({
          sql: 'INSERT INTO items (id, body, n) VALUES (?, ?, ?)',
          params: [`row${String(i).padStart(5, '0')}`, `body ${i}`, i],
        })),
      );
      const started = performance.now();
      const result = await db.sync.sync();
      return { rowCount: result.push.rowCount, ms: performance.now() - started };
    },
    { schema: syncAppSchema, token, user },
  );
  expect(pushed.rowCount).toBe(10_000);
  await first.close();

  const fresh = await browser.newContext();
  const device = await openTab(fresh);
  const outcome = await device.evaluate(
    async ({ schema, token, user }) => {
      await window.harness.openSynced('sync', schema, token);
      const db = window.harness.db('sync');
      const started = performance.now();
      const attached = await db.sync.attach(user);
      const attachMs = performance.now() - started;
      const count = (await db.query<{ c: number }>('SELECT count(*) AS c FROM items'))[0]!.c;
      const sample = await db.query("SELECT id, body, n FROM items WHERE id IN ('row00000', 'row09999') ORDER BY id");
      const progress = window.harness.statusLog('sync').flatMap((s) => (s.progress === null ? [] : [{ phase: s.phase, ...s.progress }]));
      return { attached, attachMs, count, sample, progress };
    },
    { schema: syncAppSchema, token, user },
  );
  console.log(
    `[hydrate] push of 10,000 rows took ${pushed.ms.toFixed(0)} ms; attach (${JSON.stringify(outcome.attached)}) ${outcome.attachMs.toFixed(0)} ms; ` +
      `${outcome.progress.length} progress events, last ${JSON.stringify(outcome.progress.at(-1))}`,
  );
  expect(outcome.attached.status).toBe('connected');
  expect(outcome.attached).toMatchObject({ outcome: 'used_remote_state', snapshotRows: 10_000 });
  expect(outcome.count).toBe(10_000);
  expect(outcome.sample).toEqual([
    { id: 'row00000', body: 'body 0', n: 0 },
    { id: 'row09999', body: 'body 9999', n: 9999 },
  ]);
  expect(outcome.progress.length).toBeGreaterThan(1);
  const totals = new Set(outcome.progress.map((p) => p.total));
  expect([...totals].some((t) => t >= 10_000)).toBe(true);
  const dones = outcome.progress.map((p) => p.done);
  expect(Math.max(...dones)).toBeGreaterThanOrEqual(10_000);
  await fresh.close();
});
