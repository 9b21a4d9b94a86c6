/**
 * The client's share of a bundle pull alone, per server: group 7's setup (a device pushes N rows
 * of `typed_rows` to go-oversync's example server and to ours), the pull page each server answers
 * recorded once; then, per repeat and checkout (ENGINE_ROOTS, interleaved), a fresh device attached
 * to an empty user pulls with `/sync/pull` answered from the recorded text: no server time, only
 * the client (parse, validation, SQLite apply) on the same bytes. Prints median wall and CPU ms.
 *
 *   ENGINE_ROOTS=/tmp/base,. npx tsx bench/probes/pull-client-apply.ts [--rows 10000] [--repeats 7]
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const REPEATS = Number(arg('repeats', '7'));
const roots = (process.env.ENGINE_ROOTS ?? '.').split(',').map((r) => pathToFileURL(`${resolve(r)}/`).href);

type DeviceModule = typeof import('../lib/example-device.ts');
const { locateGoReference, startGoReferenceServer } = await import('../lib/go-reference-server.ts');
const { startExampleSyncServer } = await import('../lib/sync-server.ts');
const found = await locateGoReference();
if (found.peerPath === null) throw new Error(found.reason);
const go = await startGoReferenceServer(found.peerPath);
const ours = await startExampleSyncServer();
const servers = [
  { label: 'go-oversync', baseUrl: go.baseUrl, tokenFor: go.tokenFor, pages: new Map<string, string>() },
  { label: 'ours', baseUrl: ours.baseUrl, tokenFor: ours.tokenFor, pages: new Map<string, string>() },
];
const devices = await Promise.all(roots.map(async (root) => (await import(`${root}bench/lib/example-device.ts`)) as DeviceModule));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  // Record each server's pull pages (keyed by the query's after_bundle_seq).
  for (const s of servers) {
    const user = `pullcli-${Date.now().toString(36)}`;
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = new URL(String(input instanceof Request ? input.url : input));
      if (!url.pathname.endsWith('/sync/pull')) return res;
      const text = await res.text();
      s.pages.set(url.searchParams.get('after_bundle_seq') ?? '0', text);
      return new Response(text, { status: res.status, headers: res.headers });
    };
    const puller = await devices[0]!.openExampleDevice(s.baseUrl, () => s.tokenFor(user), { fetch: recording });
    await puller.engine.attach(user);
    const pusher = await devices[0]!.openExampleDevice(s.baseUrl, () => s.tokenFor(user), { pushChunkRows: 5000 });
    await pusher.engine.attach(user);
    pusher.insert(7, 0, ROWS);
    await pusher.engine.pushPending();
    await puller.engine.pullToStable();
    await puller.close();
    await pusher.close();
    console.log(`${s.label}: ${s.pages.size} page(s), ${[...s.pages.values()].reduce((n, p) => n + p.length, 0)} bytes`);
  }
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  for (let r = 0; r < REPEATS; r++) {
    for (const [ri, device] of r % 2 ? [...devices.entries()].reverse() : [...devices.entries()]) {
      for (const s of servers) {
        const user = `pullcli-${Date.now().toString(36)}-${r}-${ri}`;
        const replay: typeof fetch = async (input, init) => {
          const url = new URL(String(input instanceof Request ? input.url : input));
          if (!url.pathname.endsWith('/sync/pull')) return fetch(input, init);
          const text = s.pages.get(url.searchParams.get('after_bundle_seq') ?? '0');
          if (text === undefined) throw new Error(`no recorded page for ${url.search}`);
          return new Response(text, { status: 200, headers: { 'Content-Type': 'application/json' } });
        };
        const d = await device.openExampleDevice(s.baseUrl, () => s.tokenFor(user), { fetch: replay });
        await d.engine.attach(user);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await d.engine.pullToStable();
        const ms = performance.now() - t0;
        const c = process.cpuUsage(c0);
        if (d.count() !== ROWS) throw new Error(`${s.label}: ${d.count()} rows`);
        await d.close();
        const key = `client ${ri} / ${s.label} page`;
        wall.set(key, [...(wall.get(key) ?? []), ms]);
        cpu.set(key, [...(cpu.get(key) ?? []), (c.user + c.system) / 1000]);
      }
    }
  }
  for (const [key, xs] of wall)
    console.log(
      `${key.padEnd(28)} wall median ${median(xs).toFixed(1)} ms, cpu median ${median(cpu.get(key)!).toFixed(1)} ms (${xs.map((x) => x.toFixed(0)).join(', ')})`,
    );
} finally {
  await ours.close();
  await go.close();
}
process.exit(0);
