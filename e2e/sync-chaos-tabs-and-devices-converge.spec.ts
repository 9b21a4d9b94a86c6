/**
 * Browser chaos: the model-based chaos run of test/chaos/ in real Chromium. Two browser contexts
 * are two devices of one user (persistent OPFS per context); the first has two tabs (a leader and
 * a follower of one database), the second one. Seeded random operations on the FK schema
 * (test/engine-integration/support/fk-schema.ts: self reference, CASCADE, NO ACTION, SET NULL, a
 * cycle) run in random tabs: writes and deletes across the foreign keys, syncs, offline/online
 * toggles (`context.setOffline`), a tab reloaded or closed while its write is in flight, a tab
 * closed inside an interactive transaction (its writes must be rolled back everywhere), and the
 * leader tab's database worker crashing while the tab lives (reloads, closes and crashes happen
 * online only: a new page or worker loads its script from the dev server, which offline emulation
 * blocks, where an installed app would have it cached). Then every device comes online and
 * syncs until quiet, and every tab must hold exactly PostgreSQL's rows with no FK violation and
 * nothing pending, with no manual step (no hydrate); and every committed local write reached the
 * server or produced a conflict/lost event in one of the device's tabs (the ledger of
 * test/chaos/support/change-ledger.ts, fed by rows read around each write and by every tab's events).
 *
 * The suite runs one 30-step run from a fixed seed; a longer job:
 *   E2E_CHAOS_RUNS=10 E2E_CHAOS_STEPS=80 node scripts/e2e.mjs sync-chaos-tabs-and-devices-converge
 * (random first seed, printed). Replay one run: E2E_CHAOS_SEED=<seed> [E2E_CHAOS_STEPS=n].
 */
import { expect, test } from '@playwright/test';
import type { BrowserContext, Page } from '@playwright/test';
import { signHarnessToken, startSyncServer } from '../test/harness/sync-server.ts';
import type { StartedSyncServer } from '../test/harness/sync-server.ts';
import {
  FK_LOCAL_SQL,
  FK_LOCAL_TABLES,
  FK_SERVER_SQL,
  FK_SERVER_TABLES,
  NAMES,
  fkServer,
} from '../test/engine-integration/support/fk-schema.ts';
import { prng } from '../test/chaos/support/prng.ts';
import { ChangeLedger, ROLLED_BACK_MARK, rolledBackOnServer, serverHistory } from '../test/chaos/support/change-ledger.ts';
import type { Row } from '../test/chaos/support/change-ledger.ts';
import { baseURL } from './browser.ts';
import { openTab, reloadTab } from './page-helpers.ts';

const RUNS = Number(process.env.E2E_CHAOS_RUNS ?? 1);
const FIRST_SEED = Number(process.env.E2E_CHAOS_SEED ?? (process.env.E2E_CHAOS_RUNS ? Math.floor(Math.random() * 2 ** 31) : 1014));
// The fixed sample: seed 1014 in 30 steps has every kind of step (1 offline toggle, 3 reloads and
// 1 close mid-write, 1 close inside an interactive transaction, 1 leader worker crash) in ~15-25 s.
const STEPS = Number(process.env.E2E_CHAOS_STEPS ?? 30);
const DB = 'chaos';
const trace = process.env.E2E_CHAOS_TRACE ? (m: string): void => console.log(`[browser-chaos] ${m}`) : (): void => {};
const UPSERT_TEAM = 'INSERT INTO teams(id, name) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name';

let server: StartedSyncServer;
test.beforeAll(async () => {
  server = await startSyncServer({ schemaSql: FK_SERVER_SQL, tables: FK_SERVER_TABLES, purpose: 'e2e_chaos', watch: { enabled: false } });
});
test.afterAll(async () => {
  await server?.close();
});

/** Contexts of the current run, closed after it whatever happened. */
const openContexts: BrowserContext[] = [];

interface Device {
  name: string;
  context: BrowserContext;
  tabs: Page[];
  offline: boolean;
}

/** Opens the chaos database in `page` (crashable worker, manual sync) and attaches `user` when online. */
async function openChaos(page: Page, user: string, online: boolean, conflicts: string): Promise<void> {
  await page.evaluate(
    async ({ name, sql, tables, token, user, online, conflicts }) => {
      await window.harness.open({
        name,
        schema: { version: 1, migrations: [sql] },
        createWorker: window.harness.crashableWorker(name),
        sync: {
          serverUrl: `${location.origin}/fkc`,
          remoteSchema: 'fkm',
          tables,
          getToken: async () => token,
          conflicts: conflicts as 'server-wins' | 'client-wins',
        },
      });
      // Every tab hears the device's sync events; each goes to the test's ledger at once.
      const report = (window as unknown as { chaosSyncEvent: (table: string, key: string) => Promise<void> }).chaosSyncEvent;
      window.harness.db(name).on('lost', (l) => void report(l.table, l.key));
      window.harness.db(name).on('conflict', (c) => void report(c.table, c.key));
      if (online) {
        const attached = await window.harness.db(name).sync.attach(user);
        if (attached.status !== 'connected') throw new Error(`attach: ${JSON.stringify(attached)}`);
      }
    },
    { name: DB, sql: FK_LOCAL_SQL, tables: FK_LOCAL_TABLES, token: signHarnessToken(user), user, online, conflicts },
  );
}

/** Runs one statement in `page`; the database's refusal (a constraint) is an answer, not a failure. */
function exec(page: Page, sql: string, bind: unknown[]): Promise<string> {
  return page.evaluate(
    async ({ name, sql, bind }) => {
      try {
        await window.harness.db(name).exec(sql, bind as never);
        return 'ok';
      } catch (e) {
        return String((e as { code?: string }).code ?? (e as Error).message);
      }
    },
    { name: DB, sql, bind },
  );
}

/** Rows of `keys` (table/key) in `page`, as the ledger reads them around a write. */
async function rowsOf(page: Page, keys: { table: string; key: string }[]): Promise<Map<string, Row>> {
  const rows = await page.evaluate(
    async ({ name, keys }) =>
      Promise.all(
        keys.map(
          async (k) =>
            ((await window.harness.db(name).query(`SELECT * FROM ${k.table} WHERE id = ?`, [k.key]))[0] ?? null) as Record<
              string,
              unknown
            > | null,
        ),
      ),
    { name: DB, keys },
  );
  return new Map(keys.map((k, i) => [`${k.table}/${k.key}`, rows[i] ?? null]));
}

async function ids(page: Page, table: string): Promise<string[]> {
  return page.evaluate(
    async ({ name, table }) =>
      (await window.harness.db(name).query<{ id: string }>(`SELECT id FROM ${table} ORDER BY id`)).map((r) => r.id),
    { name: DB, table },
  );
}

async function syncTab(page: Page): Promise<string | null> {
  return page.evaluate(async (name) => {
    try {
      await window.harness.db(name).sync.sync();
      return null;
    } catch (e) {
      return `${(e as { code?: string }).code}/${(e as { causeCode?: string }).causeCode}: ${(e as Error).message}`;
    }
  }, DB);
}

async function tables(page: Page): Promise<Record<string, unknown[]>> {
  return page.evaluate(
    async ({ name, names }) => {
      const out: Record<string, unknown[]> = {};
      for (const t of names) out[t] = await window.harness.db(name).query(`SELECT * FROM ${t} ORDER BY id`);
      return out;
    },
    { name: DB, names: [...NAMES] },
  );
}

async function runOnce(
  browser: import('@playwright/test').Browser,
  seed: number,
): Promise<{ bad: string[]; counts: Record<string, number> }> {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const conflicts = seed % 2 === 0 ? 'server-wins' : 'client-wins';
  const user = `bchaos-${seed}-${Date.now()}`;
  const counts = {
    writes: 0,
    recorded: 0,
    events: 0,
    syncs: 0,
    failedSyncs: 0,
    offline: 0,
    reloadMidWrite: 0,
    closedMidWrite: 0,
    closedMidTransaction: 0,
    leaderCrash: 0,
  };
  const ledger = new ChangeLedger();
  const devices: Device[] = [];
  for (let i = 0; i < 2; i++) {
    const context = await browser.newContext();
    openContexts.push(context);
    await context.exposeFunction('chaosSyncEvent', (table: string, key: string) => {
      counts.events++;
      ledger.noteEvent(`device${i}`, table, key);
    });
    // The FK server is not behind the page's Vite proxy: same-origin requests under /fkc are forwarded to it.
    await context.route(`${baseURL}/fkc/**`, async (route) => {
      const url = route.request().url().replace(`${baseURL}/fkc`, server.baseUrl);
      try {
        await route.fulfill({ response: await route.fetch({ url }) });
      } catch {
        await route.abort('connectionfailed').catch(() => undefined); // the page went away meanwhile
      }
    });
    const device: Device = { name: `device${i}`, context, tabs: [], offline: false };
    for (let t = 0; t < (i === 0 ? 2 : 1); t++) {
      const page = await openTab(context);
      await openChaos(page, user, true, conflicts);
      device.tabs.push(page);
    }
    devices.push(device);
  }

  const status = (page: Page) => page.evaluate((name) => window.harness.db(name).sync.status.get(), DB);
  const noteSource = async (d: Device, page: Page): Promise<void> => {
    const sourceId = (await status(page))?.sourceId;
    if (sourceId) ledger.noteSource(d.name, sourceId);
  };
  /** One app write in `page`, recorded in the ledger from the rows read around it when it committed. */
  const tracked = async (d: Device, page: Page, step: number, table: string, key: string, sql: string, bind: unknown[]): Promise<void> => {
    const keys = ledger.keysAround(d.name, table, key);
    const before = await rowsOf(page, keys);
    if ((await exec(page, sql, bind)) === 'ok') ledger.recordWrite(d.name, step, table, key, before, await rowsOf(page, keys));
  };
  /** A random app write in `page` (the SQL of test/chaos/support/chaos-run.ts). */
  const write = async (d: Device, page: Page, n: number): Promise<void> => {
    counts.writes++;
    const r = rand();
    const folders = await ids(page, 'folders');
    if (r < 0.2) {
      const id = pick(['F0', 'F1', 'F2', 'F3']);
      const parent = folders.length && rand() < 0.5 ? pick(folders) : null;
      if (id !== parent)
        await tracked(
          d,
          page,
          n,
          'folders',
          id,
          'INSERT INTO folders(id, parent_id, name) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name',
          [id, parent, `folder ${n}`],
        );
    } else if (r < 0.38) {
      const id = pick(['N0', 'N1', 'N2', 'N3']);
      if (folders.length)
        await tracked(
          d,
          page,
          n,
          'notes',
          id,
          'INSERT INTO notes(id, folder_id, body) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body',
          [id, pick(folders), `note ${n}`],
        );
    } else if (r < 0.46) {
      const id = pick(['P0', 'P1']);
      if (folders.length)
        await tracked(
          d,
          page,
          n,
          'pins',
          id,
          'INSERT INTO pins(id, folder_id, label) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET label = excluded.label',
          [id, pick(folders), `pin ${n}`],
        );
    } else if (r < 0.54) {
      const folder = folders.length && rand() < 0.8 ? pick(folders) : null;
      const id = pick(['L0', 'L1']);
      await tracked(
        d,
        page,
        n,
        'links',
        id,
        'INSERT INTO links(id, folder_id, url) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET url = excluded.url, folder_id = excluded.folder_id',
        [id, folder, `https://x/${n}`],
      );
    } else if (r < 0.62) {
      const id = pick(['T0', 'T1']);
      await tracked(d, page, n, 'teams', id, UPSERT_TEAM, [id, `team ${n}`]);
    } else if (r < 0.72) {
      const teams = await ids(page, 'teams');
      if (teams.length) {
        const person = pick(['Q0', 'Q1', 'Q2']);
        const team = pick(teams);
        await tracked(
          d,
          page,
          n,
          'people',
          person,
          'INSERT INTO people(id, team_id, name) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET team_id = excluded.team_id, name = excluded.name',
          [person, team, `person ${n}`],
        );
        if (rand() < 0.5) await tracked(d, page, n, 'teams', team, 'UPDATE teams SET captain_id = ? WHERE id = ?', [person, team]);
      }
    } else {
      const table = pick(['folders', 'folders', 'notes', 'pins', 'links', 'teams', 'people']);
      const list = await ids(page, table);
      if (list.length) {
        const id = pick(list);
        await tracked(d, page, n, table, id, `DELETE FROM ${table} WHERE id = ?`, [id]);
      }
    }
  };
  /**
   * A team write fired in `page` and left in flight while `interrupt` reloads or closes the tab;
   * recorded when it committed anyway (read back through `after()`'s tab).
   */
  const inFlightWrite = async (d: Device, page: Page, step: number, interrupt: () => Promise<Page>): Promise<void> => {
    const id = pick(['T0', 'T1']);
    const name = `team ${step}`;
    const keys = ledger.keysAround(d.name, 'teams', id);
    const before = await rowsOf(page, keys);
    const fired = exec(page, UPSERT_TEAM, [id, name]).catch(() => undefined);
    const next = await interrupt();
    await fired;
    const after = await rowsOf(next, keys);
    if (after.get(`teams/${id}`)?.name === name) ledger.recordWrite(d.name, step, 'teams', id, before, after);
  };
  /**
   * An interactive transaction opened in `page` with 1-3 writes marked ROLLED_BACK_MARK, left open
   * while the tab closes: the leader (this tab or another) must roll it back, so none of its writes
   * may ever show up on a device or the server. The device opens a new tab in its place.
   */
  const closedMidTransaction = async (d: Device, page: Page, step: number): Promise<void> => {
    const writes = Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, i) => [pick(['T0', 'T1']), `${ROLLED_BACK_MARK} ${step}.${i}`]);
    const opened = await page.evaluate(
      async ({ name, sql, writes }) => {
        const tx = await window.harness.db(name).beginTransaction();
        // Kept reachable so nothing but the tab's end finishes it.
        (window as unknown as { openTransaction: unknown }).openTransaction = tx;
        for (const bind of writes) await tx.exec(sql, bind);
        return tx.id;
      },
      { name: DB, sql: UPSERT_TEAM, writes },
    );
    trace(`${d.name}: tab ${d.tabs.indexOf(page)} closes inside transaction ${opened} (${writes.length} writes)`);
    await page.close();
    const next = await openTab(d.context);
    await openChaos(next, user, true, conflicts);
    d.tabs[d.tabs.indexOf(page)] = next;
  };
  const sync = async (d: Device, page: Page): Promise<void> => {
    counts.syncs++;
    await noteSource(d, page);
    if ((await syncTab(page)) !== null) counts.failedSyncs++;
    await noteSource(d, page);
  };

  for (let step = 0; step < STEPS; step++) {
    const d = pick(devices);
    const tab = pick(d.tabs);
    const r = rand();
    trace(`step ${step}: ${d.name} tab ${d.tabs.indexOf(tab)} r ${r.toFixed(3)}${d.offline ? ' (offline)' : ''}`);
    if (r < 0.5) {
      await write(d, tab, step);
    } else if (r < 0.68) {
      if (!d.offline) await sync(d, tab);
    } else if (r < 0.78) {
      d.offline = !d.offline;
      counts.offline++;
      await d.context.setOffline(d.offline);
      if (!d.offline) await sync(d, tab);
    } else if (r < 0.85 && !d.offline) {
      // Reloaded while its write is in flight: the write commits or never happened, nothing in between.
      counts.reloadMidWrite++;
      await inFlightWrite(d, tab, step, async () => {
        await reloadTab(tab);
        await openChaos(tab, user, true, conflicts);
        return tab;
      });
    } else if (r >= 0.87 && r < 0.9 && !d.offline) {
      // Closed inside an interactive transaction: rolled back, never seen anywhere.
      counts.closedMidTransaction++;
      await closedMidTransaction(d, tab, step);
    } else if (r < 0.9 && !d.offline) {
      // Closed while its write is in flight; the device opens a new tab in its place.
      counts.closedMidWrite++;
      await inFlightWrite(d, tab, step, async () => {
        await tab.close();
        const page = await openTab(d.context);
        await openChaos(page, user, true, conflicts);
        d.tabs[d.tabs.indexOf(tab)] = page;
        return page;
      });
    } else if (r < 0.94 && !d.offline) {
      // The leader's database worker dies while its tab lives; the database is handed over. (Only
      // online: the next worker's script comes from the dev server, which offline emulation blocks.)
      const roles = await Promise.all(d.tabs.map((p) => p.evaluate((name) => window.harness.db(name).role, DB)));
      const leader = d.tabs[roles.indexOf('leader')];
      if (leader) {
        trace(`${d.name}: leader tab ${d.tabs.indexOf(leader)} of ${d.tabs.length} crashes its worker`);
        counts.leaderCrash++;
        await leader.evaluate((name) => window.harness.crashWorker(name), DB);
        await write(d, pick(d.tabs), step);
      }
    } else {
      await Promise.all(devices.filter((x) => !x.offline).map((x) => sync(x, pick(x.tabs))));
    }
  }

  // Settle: everyone online, rounds of syncs until a round changed nothing (at most 8).
  for (const d of devices) {
    d.offline = false;
    await d.context.setOffline(false);
  }
  const errors = new Map<string, string | null>();
  for (let round = 0; round < 8; round++) {
    let quiet = true;
    for (const d of devices) {
      const before = (await status(d.tabs[0]!))?.checkpoint;
      await noteSource(d, d.tabs[0]!);
      const error = await syncTab(d.tabs[0]!);
      await noteSource(d, d.tabs[0]!);
      errors.set(d.name, error);
      if (error !== null || (await status(d.tabs[0]!))?.checkpoint !== before) quiet = false;
    }
    if (quiet && new Set(await Promise.all(devices.map(async (d) => (await status(d.tabs[0]!))?.checkpoint))).size === 1) break;
  }
  const pgState = await fkServer({ server }, user);
  const history = await serverHistory(server.database, user);
  const bad: string[] = [...ledger.unaccounted(history, pgState)];
  for (const leak of rolledBackOnServer(history)) bad.push(`rolled-back write on the server: ${leak}`);
  counts.recorded = ledger.recorded;
  for (const d of devices) {
    if (errors.get(d.name)) bad.push(`${d.name} stuck: ${errors.get(d.name)}`);
    const pending = (await status(d.tabs[0]!))?.pendingCount;
    if (pending !== 0) bad.push(`${d.name} stuck: ${pending} pending`);
    for (const [t, page] of d.tabs.entries()) {
      const local = await tables(page);
      if (JSON.stringify(local).includes(ROLLED_BACK_MARK)) bad.push(`${d.name} tab ${t} holds a rolled-back write`);
      if (JSON.stringify(local) !== JSON.stringify(pgState))
        bad.push(`${d.name} tab ${t} diverged: local ${JSON.stringify(local)} server ${JSON.stringify(pgState)}`);
      const violations = await page.evaluate(async (name) => (await window.harness.db(name).query('PRAGMA foreign_key_check')).length, DB);
      if (violations !== 0) bad.push(`${d.name} tab ${t}: ${violations} FK violations`);
    }
  }
  return { bad, counts };
}

test(`browser chaos: ${RUNS} seeded run(s), tabs and devices converge with PostgreSQL`, async ({ browser }) => {
  test.setTimeout(RUNS * (60_000 + STEPS * 3_000));
  const failed: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const seed = (FIRST_SEED + i) >>> 0;
    const started = Date.now();
    const replay = `E2E_CHAOS_SEED=${seed} E2E_CHAOS_STEPS=${STEPS} node scripts/e2e.mjs sync-chaos-tabs-and-devices-converge`;
    console.log(`[browser-chaos] seed ${seed} (replay: ${replay})`);
    const { bad, counts } = await runOnce(browser, seed).catch((e: unknown) => ({
      bad: [`threw: ${(e as Error).stack ?? String(e)}`],
      counts: {},
    }));
    console.log(
      `[browser-chaos] seed ${seed}: ${bad.length ? 'FAILED' : 'ok'}; ${JSON.stringify(counts)}; ${Math.round((Date.now() - started) / 1000)} s`,
    );
    for (const b of bad) console.log(`  ${b}`);
    if (bad.length) failed.push(`seed ${seed}`);
    for (const context of openContexts.splice(0)) await context.close().catch(() => undefined);
  }
  expect(failed).toEqual([]);
});
