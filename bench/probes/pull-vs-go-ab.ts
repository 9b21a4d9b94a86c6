/**
 * Group 7's bundle pull (`reference.pull.bundle_rows_N`) for two client checkouts at once: both
 * servers (go-oversync's example server and ours, each in its own process) as in the group; per
 * repeat and server, one device of each checkout attaches to an empty user, a pusher commits N
 * rows, and the devices pull them in turn (timed as the group times it: `pullToStable()`,
 * streamed responses, nothing read ahead). Checkouts and servers alternate repeat by repeat, so
 * both clients meet the same load. Prints per checkout the medians and the ours ÷ go ratio of
 * throughput (the group's ratio), and the client's CPU per pull (this process's: the servers are
 * children), which a loaded machine blurs less than the wall.
 *
 *   ENGINE_ROOTS=/path/to/base,. npx tsx bench/probes/pull-vs-go-ab.ts [--rows 10000] [--repeats 7]
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { locateGoReference, startGoReferenceServer } from '../lib/go-reference-server.ts';
import { startExampleSyncServer } from '../lib/sync-server.ts';
import { median } from '../lib/stats.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const REPEATS = Number(arg('repeats', '7'));
const roots = (process.env.ENGINE_ROOTS ?? '.').split(',');
type DeviceModule = typeof import('../lib/example-device.ts');
const clients = await Promise.all(
  roots.map(async (root) => (await import(`${pathToFileURL(`${resolve(root)}/`).href}bench/lib/example-device.ts`)) as DeviceModule),
);

const found = await locateGoReference();
if (found.peerPath === null) throw new Error(found.reason);
const go = await startGoReferenceServer(found.peerPath);
const ours = await startExampleSyncServer();
const servers = [
  { label: 'go', baseUrl: go.baseUrl, tokenFor: go.tokenFor },
  { label: 'ours', baseUrl: ours.baseUrl, tokenFor: ours.tokenFor },
];
const ms = new Map<string, number[]>();
// This process's CPU during each pull: the client's alone (each server is a child process).
const cpu = new Map<string, number[]>();
let device = 100;
try {
  for (let r = 0; r < REPEATS; r++) {
    for (const server of r % 2 ? [...servers].reverse() : servers) {
      const user = `pullab-${Date.now().toString(36)}-${r}-${server.label}`;
      const order = [...clients.entries()];
      if ((r >> 1) % 2) order.reverse();
      const pullers = [];
      for (const [ci, client] of order) {
        const d = await client.openExampleDevice(server.baseUrl, () => server.tokenFor(user));
        await d.engine.attach(user);
        pullers.push({ ci, d });
      }
      const pusher = await clients[0]!.openExampleDevice(server.baseUrl, () => server.tokenFor(user), { pushChunkRows: 5000 });
      await pusher.engine.attach(user);
      pusher.insert(++device, 0, ROWS);
      await pusher.engine.pushPending();
      await pusher.close();
      for (const { ci, d } of pullers) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const pulled = await d.engine.pullToStable();
        const t = performance.now() - t0;
        const c = process.cpuUsage(c0);
        if (pulled.rowsApplied !== ROWS || d.count() !== ROWS)
          throw new Error(`client ${ci}: ${JSON.stringify(pulled)}, ${d.count()} rows`);
        await d.close();
        const key = `${ci}/${server.label}`;
        ms.set(key, [...(ms.get(key) ?? []), t]);
        cpu.set(key, [...(cpu.get(key) ?? []), (c.user + c.system) / 1000]);
      }
    }
  }
  for (const [ci, root] of roots.entries()) {
    const g = median(ms.get(`${ci}/go`)!);
    const o = median(ms.get(`${ci}/ours`)!);
    console.log(
      `client ${ci} (${root}): go ${g.toFixed(1)} ms, ours ${o.toFixed(1)} ms median of ${REPEATS}; ours ÷ go throughput ${(g / o).toFixed(3)}` +
        `  [ours ${ms
          .get(`${ci}/ours`)!
          .map((x) => x.toFixed(0))
          .join(' ')}] [go ${ms
          .get(`${ci}/go`)!
          .map((x) => x.toFixed(0))
          .join(
            ' ',
          )}]; client CPU median: ours ${median(cpu.get(`${ci}/ours`)!).toFixed(0)} ms, go ${median(cpu.get(`${ci}/go`)!).toFixed(0)} ms`,
    );
  }
} finally {
  await ours.close();
  await go.close();
}
process.exit(0);
