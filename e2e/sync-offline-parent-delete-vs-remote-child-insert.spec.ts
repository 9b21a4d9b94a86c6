/**
 * The interleaving of issue 15 in real Chromium (two browser contexts = two devices, OPFS, the
 * worker engine), against its own real server on the FK schema (test/engine-integration/support/
 * fk-schema.ts): A (offline) deletes folder P and adds a note under folder Q; B deletes Q and adds
 * a sub-folder under P, and syncs; A comes back online. Before, A's push was refused (note -> Q)
 * and its pull refused by its own FK (sub-folder -> P) on every sync. Now one sync() converges,
 * and A's app hears about each row it lost (`lost` events).
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { startSyncServer, signHarnessToken } from '../test/harness/sync-server.ts';
import type { StartedSyncServer } from '../test/harness/sync-server.ts';
import {
  FK_LOCAL_SQL,
  FK_LOCAL_TABLES,
  FK_SERVER_SQL,
  FK_SERVER_TABLES,
  NAMES,
  fkServer,
} from '../test/engine-integration/support/fk-schema.ts';
import { baseURL } from './browser.ts';
import { openTab } from './page-helpers.ts';

let server: StartedSyncServer;
test.beforeAll(async () => {
  server = await startSyncServer({ schemaSql: FK_SERVER_SQL, tables: FK_SERVER_TABLES, purpose: 'e2e_fk' });
});
test.afterAll(async () => {
  await server?.close();
});

async function exec(page: Page, sql: string): Promise<void> {
  await page.evaluate(async (sql) => {
    await window.harness.db('fk').exec(sql);
  }, sql);
}

async function tables(page: Page): Promise<Record<string, unknown[]>> {
  return page.evaluate(
    async (names) => {
      const out: Record<string, unknown[]> = {};
      for (const t of names) out[t] = await window.harness.db('fk').query(`SELECT * FROM ${t} ORDER BY id`);
      return out;
    },
    [...NAMES],
  );
}

test('offline parent delete vs remote child insert converges in the browser with no manual step', async ({ browser }) => {
  const user = `fk-${Date.now()}`;
  const token = signHarnessToken(user);
  const devices = [await browser.newContext(), await browser.newContext()];
  // The FK server is not behind the page's Vite proxy: same-origin requests under /fk are
  // forwarded to it, so the page needs no CORS.
  for (const context of devices) {
    await context.route(`${baseURL}/fk/**`, async (route) => {
      const url = route.request().url().replace(`${baseURL}/fk`, server.baseUrl);
      await route.fulfill({ response: await route.fetch({ url }) });
    });
  }
  const [a, b] = [await openTab(devices[0]!), await openTab(devices[1]!)];
  for (const page of [a, b]) {
    await page.evaluate(
      async ({ sql, tables, token, user }) => {
        await window.harness.open({
          name: 'fk',
          schema: { version: 1, migrations: [sql] },
          sync: { serverUrl: `${location.origin}/fk`, remoteSchema: 'fkm', tables, getToken: async () => token },
        });
        (window as unknown as { lost: unknown[] }).lost = [];
        window.harness.db('fk').on('lost', (l) => (window as unknown as { lost: unknown[] }).lost.push(l));
        const attached = await window.harness.db('fk').sync.attach(user);
        if (attached.status !== 'connected') throw new Error(`attach: ${JSON.stringify(attached)}`);
      },
      { sql: FK_LOCAL_SQL, tables: FK_LOCAL_TABLES, token, user },
    );
  }
  await exec(a, `INSERT INTO folders(id, name) VALUES ('P', 'p'), ('Q', 'q'), ('K', 'kept')`);
  await a.evaluate(async () => {
    await window.harness.db('fk').sync.sync();
  });
  await b.evaluate(async () => {
    await window.harness.db('fk').sync.sync();
  });

  await devices[0]!.setOffline(true);
  await exec(a, `DELETE FROM folders WHERE id = 'P'`);
  await exec(a, `INSERT INTO notes(id, folder_id, body) VALUES ('n1', 'Q', 'A: note under Q')`);
  await exec(b, `DELETE FROM folders WHERE id = 'Q'`);
  await exec(b, `INSERT INTO folders(id, parent_id, name) VALUES ('S', 'P', 'B: sub-folder under P')`);
  await b.evaluate(async () => {
    await window.harness.db('fk').sync.sync();
  });
  await devices[0]!.setOffline(false);

  const result = await a.evaluate(async () => {
    try {
      await window.harness.db('fk').sync.sync();
      return 'synced';
    } catch (e) {
      return `${(e as { code?: string }).code}/${(e as { causeCode?: string }).causeCode}: ${(e as Error).message}`;
    }
  });
  expect(result).toBe('synced');
  await b.evaluate(async () => {
    await window.harness.db('fk').sync.sync();
  });

  const pgState = await fkServer({ server }, user);
  expect(pgState.folders).toEqual([{ id: 'K', parent_id: null, name: 'kept' }]);
  expect(pgState.notes).toEqual([]);
  expect(await tables(a)).toEqual(pgState);
  expect(await tables(b)).toEqual(pgState);
  const lost = await a.evaluate(() =>
    (window as unknown as { lost: { table: string; key: string; reason: string }[] }).lost.map((l) => `${l.table}/${l.key}/${l.reason}`),
  );
  console.log(`[fk] lost on A: ${JSON.stringify(lost)}`);
  expect(lost.sort()).toEqual(['folders/S/parent_deleted_locally', 'notes/n1/cascade']);
  for (const page of [a, b]) expect(await page.evaluate(() => window.harness.db('fk').sync.status.get()?.pendingCount)).toBe(0);
  for (const context of devices) await context.close();
});
