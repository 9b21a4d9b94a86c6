/**
 * Bundle pull side by side with go-oversync, before/after: group 7's pull measurement (a device
 * attached to an empty user pulls N rows another device pushed, `pullToStable()` timed) for each
 * checkout in ENGINE_ROOTS (client AND our server from that checkout) against its own server and
 * against go-oversync's example server, all interleaved in one process (the order rotates every
 * repeat), so load falls on every side alike. Prints per side the median pull time and, per
 * checkout, go-oversync's time ÷ ours (group 7's ratio: above 1 = ours faster). Then `--gets`
 * raw `GET /sync/pull` requests of the last pulled user's page per server (go-oversync once),
 * alternating, each timed until its body is read: the servers' share alone.
 *
 *   ENGINE_ROOTS=/tmp/base,. npx tsx bench/probes/pull-ab.ts [--rows 10000] [--repeats 5] [--gets 0]
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const REPEATS = Number(arg('repeats', '5'));
const GETS = Number(arg('gets', '0'));
const roots = (process.env.ENGINE_ROOTS ?? '.').split(',').map((r) => pathToFileURL(`${resolve(r)}/`).href);

type DeviceModule = typeof import('../lib/example-device.ts');
type ServerModule = typeof import('../lib/sync-server.ts');
const { locateGoReference, startGoReferenceServer } = await import('../lib/go-reference-server.ts');
const found = await locateGoReference();
if (found.peerPath === null) throw new Error(found.reason);
const go = await startGoReferenceServer(found.peerPath);

interface Side {
  label: string;
  root: string;
  baseUrl: string;
  tokenFor: (user: string) => Promise<string>;
  device: DeviceModule;
  times: number[];
  /** The last user this side pulled. */
  user?: string;
}
const sides: Side[] = [];
const closers: (() => Promise<void>)[] = [() => go.close()];
try {
  for (const [i, root] of roots.entries()) {
    const device = (await import(`${root}bench/lib/example-device.ts`)) as DeviceModule;
    const server = (await import(`${root}bench/lib/sync-server.ts`)) as ServerModule;
    const ours = await server.startExampleSyncServer();
    closers.push(() => ours.close());
    sides.push({ label: `go-oversync/client ${i}`, root, baseUrl: go.baseUrl, tokenFor: go.tokenFor, device, times: [] });
    sides.push({ label: `ours ${i}`, root, baseUrl: ours.baseUrl, tokenFor: ours.tokenFor, device, times: [] });
  }
  for (let r = 0; r < REPEATS; r++) {
    const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
    for (const side of r % 2 ? order.reverse() : order) {
      const user = `pullab-${Date.now().toString(36)}-${r}`;
      const puller = await side.device.openExampleDevice(side.baseUrl, () => side.tokenFor(user));
      await puller.engine.attach(user);
      const pusher = await side.device.openExampleDevice(side.baseUrl, () => side.tokenFor(user), { pushChunkRows: 5000 });
      await pusher.engine.attach(user);
      pusher.insert(7, 0, ROWS);
      await pusher.engine.pushPending();
      const t0 = performance.now();
      const pulled = await puller.engine.pullToStable();
      const ms = performance.now() - t0;
      if (pulled.rowsApplied !== ROWS || puller.count() !== ROWS) throw new Error(`${side.label}: pulled ${JSON.stringify(pulled)}`);
      side.times.push(ms);
      side.user = user;
      console.log(`repeat ${r + 1} ${side.label.padEnd(22)} ${ms.toFixed(0)} ms`);
      await puller.close();
      await pusher.close();
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const s of sides)
    console.log(`${s.label.padEnd(22)} median ${median(s.times).toFixed(0)} ms (${s.times.map((t) => t.toFixed(0)).join(', ')})`);
  for (let i = 0; i < roots.length; i++) {
    const g = median(sides[2 * i]!.times);
    const o = median(sides[2 * i + 1]!.times);
    console.log(`checkout ${i} (${roots[i]}): go ${g.toFixed(0)} ms / ours ${o.toFixed(0)} ms = ${(g / o).toFixed(2)}x`);
  }
  if (GETS > 0 && REPEATS > 0) {
    const servers = sides.filter((s, i) => i === 0 || s.label.startsWith('ours'));
    const times = servers.map(() => [] as number[]);
    for (let g = 0; g < GETS; g++) {
      for (const i of servers.map((_, k) => (k + g) % servers.length)) {
        const s = servers[i]!;
        const headers = { Authorization: `Bearer ${await s.tokenFor(s.user!)}`, 'Oversync-Source-ID': `pullab-raw-${i}` };
        const t0 = performance.now();
        const res = await fetch(`${s.baseUrl}/sync/pull?after_bundle_seq=0&max_bundles=1000`, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${s.label} raw pull: ${res.status}`);
        times[i]!.push(performance.now() - t0);
      }
    }
    const go0 = median(times[0]!);
    for (const [i, s] of servers.entries())
      console.log(
        `raw GET ${s.label.padEnd(22)} median of ${GETS}: ${median(times[i]!).toFixed(1)} ms; go ÷ this ${(go0 / median(times[i]!)).toFixed(2)}`,
      );
  }
} finally {
  for (const close of closers.reverse()) await close();
}
process.exit(0);
