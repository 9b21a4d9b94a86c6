/**
 * Probe of the engine's push path (not part of `npm run bench`): one Node device (real engine,
 * sqlite-wasm memory VFS) pushes N captured INSERTs over HTTP to the bench sync server (child
 * process, real PostgreSQL). Reports rows/s and how much of the wall time the client spent outside
 * HTTP waits, and the client process' CPU time (user + system, all threads: the least load-sensitive
 * number), per request kind. Run under `node --cpu-prof` to profile the client.
 *
 *   node --import tsx bench/probes/engine-push.ts [rows=20000] [repeats=3]
 *   ENGINE_ROOT=/tmp/base node --import tsx bench/probes/engine-push.ts   # another checkout's engine
 *
 * With ENGINE_ROOT the device is built from that checkout (e.g. an unmodified copy of HEAD), so
 * two engines can be compared in one interleaved run by alternating invocations.
 */
import { pathToFileURL } from 'node:url';
import { startBenchSyncServer } from '../lib/sync-server.ts';

const rows = Number(process.argv[2] ?? 20_000);
const repeats = Number(process.argv[3] ?? 3);
const root = process.env.ENGINE_ROOT
  ? pathToFileURL(`${process.env.ENGINE_ROOT.replace(/\/$/, '')}/`).href
  : new URL('../../', import.meta.url).href;
const { openNodeDevice } = (await import(`${root}bench/lib/node-device.ts`)) as typeof import('../lib/node-device.ts');

// Time spent waiting on each kind of request while a push runs, measured around the real fetch
// (the engine binds globalThis.fetch when it opens, so the wrapper goes in first).
const waits = new Map<string, { n: number; ms: number }>();
let recording = false;
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  if (!recording) return realFetch(input, init);
  const path = new URL(String(input)).pathname.replace(/\/[0-9a-f-]{8,}|\/\d+/g, '/:id');
  const key = `${init?.method ?? 'GET'} ${path}`;
  const t = performance.now();
  try {
    const res = await realFetch(input, init);
    // Include the body transfer: the transport reads it right after.
    const body = await res.text();
    return new Response(body, { status: res.status, headers: res.headers });
  } finally {
    const w = waits.get(key) ?? { n: 0, ms: 0 };
    w.n++;
    w.ms += performance.now() - t;
    waits.set(key, w);
  }
};

const server = await startBenchSyncServer();
try {
  const stamp = Date.now().toString(36);
  for (let r = 0; r < repeats; r++) {
    const user = `probe-${stamp}-${r}`;
    const device = await openNodeDevice(server.baseUrl, await server.tokenFor(user));
    try {
      const attached = await device.engine.attach(user);
      if (attached.status !== 'connected') throw new Error(`attach: ${JSON.stringify(attached)}`);
      device.insert('p', 0, rows);
      waits.clear();
      recording = true;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let result;
      try {
        result = await device.engine.pushPending();
      } finally {
        recording = false;
      }
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (result.outcome !== 'committed' || result.rowCount !== rows) throw new Error(`push: ${JSON.stringify(result)}`);
      const waited = [...waits.values()].reduce((s, w) => s + w.ms, 0);
      console.log(
        `${rows} rows: ${Math.round((rows / ms) * 1000)} rows/s, wall ${ms.toFixed(0)} ms, http ${waited.toFixed(0)} ms, client ${(ms - waited).toFixed(0)} ms, client CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms` +
          ` | ${[...waits].map(([k, w]) => `${k} ×${w.n} ${w.ms.toFixed(0)} ms`).join('; ')}`,
      );
    } finally {
      await device.close();
    }
  }
} finally {
  await server.close();
}
