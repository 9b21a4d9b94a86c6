/**
 * Probe of the client's bundle-pull path (not part of `npm run bench`): Node devices (real engine,
 * sqlite-wasm memory VFS) attach to an empty user on the bench sync server (child process, real
 * PostgreSQL); then N rows are written as server-originated bundles (`writeAs`, 50,000 rows each)
 * and every device pulls them with `pullToStable`. Reports per pull: total, HTTP wait, apply, and
 * the client's CPU time (steadier than wall time on a loaded machine).
 *
 *   node --import tsx bench/probes/pull-apply.ts [rows=100000] [repeats=3]
 *   ENGINE_ROOTS=/tmp/base,. node --import tsx bench/probes/pull-apply.ts   # A/B, interleaved
 *
 * With ENGINE_ROOTS (comma-separated checkouts) each repeat has one device per engine, all attached
 * before the data are written, and they pull in turn, so the engines meet the same load.
 */
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { startBenchSyncServer } from '../lib/sync-server.ts';
import { median } from '../lib/stats.ts';
import { itemsSchema, itemsSyncTables, remoteSchema } from '../app/schema.ts';

const rows = Number(process.argv[2] ?? 100_000);
const repeats = Number(process.argv[3] ?? 3);
const roots = (process.env.ENGINE_ROOTS ?? '.').split(',').map((r) => pathToFileURL(`${resolve(r)}/`).href);
const sqlite3 = await sqlite3InitModule();
const engines = await Promise.all(
  roots.map(async (root) => {
    const { SyncEngine } = (await import(`${root}worker/engine/index.ts`)) as typeof import('../../worker/engine/index.ts');
    const open = async (serverUrl: string, token: string) => {
      const db = new sqlite3.oo1.DB(':memory:', 'c');
      for (const migration of itemsSchema.migrations) db.exec(migration);
      const engine = await SyncEngine.open({
        sqlite3,
        db,
        remoteSchema,
        tables: itemsSyncTables.map((t) => ({ ...t })),
        serverUrl,
        getToken: async () => token,
      });
      return {
        db,
        engine,
        close: async () => {
          await engine.close();
          db.close();
        },
      };
    };
    return { root, open };
  }),
);
const label = (root: string) => root.replace(/^file:\/\//, '');

// HTTP wait, measured around the real fetch including the body transfer.
let httpMs = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const t = performance.now();
  try {
    const res = await realFetch(input, init);
    const body = await res.text();
    return new Response(body, { status: res.status, headers: res.headers });
  } finally {
    httpMs += performance.now() - t;
  }
};

const server = await startBenchSyncServer();
try {
  const stamp = Date.now().toString(36);
  const user = `probe-pull-${stamp}`;
  const token = await server.tokenFor(user);
  const devices: { root: string; device: Awaited<ReturnType<(typeof engines)[number]['open']>> }[][] = [];
  for (let r = 0; r < repeats; r++) {
    const round = [];
    for (const e of engines) {
      const device = await e.open(server.baseUrl, token);
      const res = await device.engine.attach(user);
      if (res.status !== 'connected') throw new Error(`attach: ${JSON.stringify(res)}`);
      round.push({ root: e.root, device });
    }
    devices.push(round);
  }
  const seedMs = await server.seed(user, rows);
  console.log(`${rows} rows seeded in ${Math.round(seedMs)} ms`);
  const totals = new Map<string, number[]>();
  // The client's CPU time (this process: the server is a child process of its own).
  const cpus = new Map<string, number[]>();
  const pageCounts = new Map<string, [number, number][]>();
  for (let r = 0; r < repeats; r++) {
    // Alternate which engine goes first, so neither always pulls right after the seed.
    const round = r % 2 === 0 ? devices[r]! : [...devices[r]!].reverse();
    for (const { root, device } of round) {
      try {
        httpMs = 0;
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const res = await device.engine.pullToStable();
        const total = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        (cpus.get(root) ?? cpus.set(root, []).get(root)!).push(cpuMs);
        if (res.rowsApplied !== rows) throw new Error(`pull: ${JSON.stringify(res)}`);
        const count = Number(device.db.selectValue('SELECT count(*) FROM items'));
        if (count !== rows) throw new Error(`items has ${count} rows`);
        // What the pull left on disk: the database's pages, and those of _sync_row_state alone.
        const pages = Number(device.db.selectValue('PRAGMA page_count'));
        const rowStatePages = Number(device.db.selectValue("SELECT count(*) FROM dbstat WHERE name = '_sync_row_state'"));
        (pageCounts.get(root) ?? pageCounts.set(root, []).get(root)!).push([pages, rowStatePages]);
        (totals.get(root) ?? totals.set(root, []).get(root)!).push(total);
        console.log(
          `[${label(root)}] ${rows} rows: ${Math.round((rows / total) * 1000)} rows/s, total ${total.toFixed(0)} ms (http wait ${httpMs.toFixed(0)}, rest ${(total - httpMs).toFixed(0)}; client CPU ${cpuMs.toFixed(0)} ms; ${res.bundlesApplied} bundles)`,
        );
      } finally {
        await device.close();
      }
    }
  }
  for (const [root, ms] of totals)
    console.log(
      `median [${label(root)}]: ${median(ms).toFixed(0)} ms, ${Math.round((rows / median(ms)) * 1000)} rows/s; client CPU ${median(cpus.get(root)!).toFixed(0)} ms; ` +
        `pages ${pageCounts.get(root)![0]![0]} (_sync_row_state ${pageCounts.get(root)![0]![1]})`,
    );
} finally {
  await server.close();
}
