import { startBenchSyncServer } from './lib/sync-server.ts';
import { openNodeDevice } from './lib/node-device.ts';
const server = await startBenchSyncServer();
const orig = globalThis.fetch;
const T0 = performance.now();
globalThis.fetch = (async (input: any, init?: any) => {
  const t = performance.now();
  const res = await orig(input, init);
  console.log(
    `${(t - T0).toFixed(0)} +${(performance.now() - t).toFixed(0)}ms ${init?.method ?? 'GET'} ${String(input)
      .replace(/^http:\/\/[^/]+/, '')
      .slice(0, 90)} ${res.status}`,
  );
  return res;
}) as typeof fetch;
const n = 10000;
const user = 'snap-' + n + '-' + Date.now();
await server.seed(user, n);
const device = await openNodeDevice(server.baseUrl, await server.tokenFor(user));
const t0 = performance.now();
const r = await device.engine.attach(user);
console.log(n, JSON.stringify(r), (performance.now() - t0).toFixed(0), 'ms');
await device.close();
await server.close();
