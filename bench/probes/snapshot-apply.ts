/**
 * Probe of the client's snapshot path (not part of `npm run bench`): the bench sync server (child
 * process, real PostgreSQL) holds N server-originated rows (`writeAs`) for one user; fresh Node
 * devices (real engine, sqlite-wasm memory VFS) attach to that user and hydrate by snapshot.
 * Reports per attach: session create, download + staging, final apply (from the engine's status
 * events), and how long the client waited on HTTP during the download.
 *
 *   node --import tsx bench/probes/snapshot-apply.ts [rows=100000] [repeats=3]
 *   ENGINE_ROOTS=/tmp/base,. node --import tsx bench/probes/snapshot-apply.ts   # A/B, interleaved
 *   SNAP_CHUNK_ROWS=5000 node --import tsx bench/probes/snapshot-apply.ts        # chunk size asked for
 *
 * With ENGINE_ROOTS (comma-separated checkouts) each repeat attaches one device per engine, in
 * turn, against the same server data, so the engines are compared under the same load.
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
// SNAP_CHUNK_ROWS=n asks for n-row chunks (the engine's snapshotChunkRows option).
const chunkRows = process.env.SNAP_CHUNK_ROWS ? Number(process.env.SNAP_CHUNK_ROWS) : undefined;
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
        ...(chunkRows ? { snapshotChunkRows: chunkRows } : {}),
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

// HTTP wait per request kind, measured around the real fetch including the body transfer.
let httpMs = 0;
let requests = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const t = performance.now();
  try {
    const res = await realFetch(input, init);
    const body = await res.text();
    return new Response(body, { status: res.status, headers: res.headers });
  } finally {
    httpMs += performance.now() - t;
    requests++;
  }
};

const server = await startBenchSyncServer();
try {
  const stamp = Date.now().toString(36);
  const user = `probe-snap-${stamp}`;
  const seedMs = await server.seed(user, rows);
  console.log(`${rows} rows seeded in ${Math.round(seedMs)} ms`);
  const token = await server.tokenFor(user);
  const totals = new Map<string, number[]>();
  // CPU of this process (the client: engine, sqlite-wasm, HTTP); the server runs in a child process.
  const cpuTotals = new Map<string, number[]>();
  for (let r = 0; r < repeats; r++) {
    for (const e of engines) {
      const device = await e.open(server.baseUrl, token);
      try {
        let firstProgress = 0;
        let lastProgress = 0;
        device.engine.subscribe((ev) => {
          if (ev.type !== 'status' || ev.status.phase !== 'hydrating' || !ev.status.progress) return;
          const now = performance.now();
          if (!firstProgress) firstProgress = now;
          if (ev.status.progress.done === ev.status.progress.total) lastProgress = now;
        });
        httpMs = 0;
        requests = 0;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const res = await device.engine.attach(user);
        const t1 = performance.now();
        const cpu = process.cpuUsage(cpu0);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        (cpuTotals.get(e.root) ?? cpuTotals.set(e.root, []).get(e.root)!).push(cpuMs);
        if (res.status !== 'connected' || res.outcome !== 'used_remote_state' || res.snapshotRows !== rows)
          throw new Error(`attach: ${JSON.stringify(res)}`);
        const count = Number(device.db.selectValue('SELECT count(*) FROM items'));
        if (count !== rows) throw new Error(`items has ${count} rows`);
        const total = t1 - t0;
        (totals.get(e.root) ?? totals.set(e.root, []).get(e.root)!).push(total);
        console.log(
          `[${e.root.replace(/^file:\/\//, '')}] ${rows} rows: ${Math.round((rows / total) * 1000)} rows/s, total ${total.toFixed(0)} ms ` +
            `(until session ${(firstProgress - t0).toFixed(0)}, download+stage ${(lastProgress - firstProgress).toFixed(0)}, apply ${(t1 - lastProgress).toFixed(0)}); ` +
            `http wait ${httpMs.toFixed(0)} ms over ${requests} requests; client CPU ${cpuMs.toFixed(0)} ms`,
        );
      } finally {
        await device.close();
      }
    }
  }
  for (const [root, ms] of totals)
    console.log(
      `median [${root.replace(/^file:\/\//, '')}]: ${median(ms).toFixed(0)} ms, ${Math.round((rows / median(ms)) * 1000)} rows/s, ` +
        `client CPU ${median(cpuTotals.get(root)!).toFixed(0)} ms (${Math.min(...cpuTotals.get(root)!).toFixed(0)}–${Math.max(...cpuTotals.get(root)!).toFixed(0)})`,
    );
} finally {
  await server.close();
}
