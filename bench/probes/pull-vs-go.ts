/**
 * Where a 10,000-row bundle pull's time goes, go-oversync's example server vs ours (bench group 7's
 * client and servers): a device pushes N rows, another device attached before pulls them; prints
 * the pull's total time and each HTTP request's wall time until its body is read (the rest is the
 * client applying rows). Repeats alternate the servers. Then `--gets` raw `GET /sync/pull` requests
 * of the same page per server, alternating, each timed until its body is read (the server's share
 * alone, no client apply): medians and the ours/go ratio.
 *
 *   npx tsx bench/probes/pull-vs-go.ts [--rows 10000] [--repeats 3] [--gets 20]
 */
import { openExampleDevice } from '../lib/example-device.ts';
import { locateGoReference, startGoReferenceServer } from '../lib/go-reference-server.ts';
import { startExampleSyncServer } from '../lib/sync-server.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const REPEATS = Number(arg('repeats', '3'));
const GETS = Number(arg('gets', '20'));

const found = await locateGoReference();
if (found.peerPath === null) throw new Error(found.reason);
const go = await startGoReferenceServer(found.peerPath);
const ours = await startExampleSyncServer();
const sides = [
  { label: 'go-oversync', baseUrl: go.baseUrl, tokenFor: go.tokenFor },
  { label: 'ours', baseUrl: ours.baseUrl, tokenFor: ours.tokenFor },
];
const lastUser = new Map<string, string>();
try {
  for (let r = 0; r < REPEATS; r++) {
    for (const side of r % 2 ? [...sides].reverse() : sides) {
      const user = `pullprobe-${Date.now().toString(36)}-${r}`;
      const requests: string[] = [];
      const timed: typeof fetch = async (input, init) => {
        const t0 = performance.now();
        const res = await fetch(input, init);
        const body = await res.arrayBuffer();
        requests.push(
          `${new URL(String(input)).pathname.replace(/\/[0-9a-f-]{8,}/g, '/:id')} ${(performance.now() - t0).toFixed(0)} ms ${(body.byteLength / 1024).toFixed(0)} KiB`,
        );
        return new Response(body, { status: res.status, headers: res.headers });
      };
      const puller = await openExampleDevice(side.baseUrl, () => side.tokenFor(user), { fetch: timed });
      await puller.engine.attach(user);
      const pusher = await openExampleDevice(side.baseUrl, () => side.tokenFor(user), { pushChunkRows: 5000 });
      await pusher.engine.attach(user);
      pusher.insert(7, 0, ROWS);
      await pusher.engine.pushPending();
      requests.length = 0;
      const t0 = performance.now();
      const pulled = await puller.engine.pullToStable();
      console.log(
        `${side.label.padEnd(11)} pull of ${pulled.rowsApplied} rows: ${(performance.now() - t0).toFixed(0)} ms; requests: ${requests.join('; ')}`,
      );
      await puller.close();
      await pusher.close();
      lastUser.set(side.label, user);
    }
  }
  // The server's share alone: the same page fetched raw, alternating servers.
  const times = new Map<string, number[]>(sides.map((s) => [s.label, []]));
  for (let g = 0; g < GETS; g++) {
    for (const side of g % 2 ? [...sides].reverse() : sides) {
      const user = lastUser.get(side.label)!;
      const headers = { Authorization: `Bearer ${await side.tokenFor(user)}`, 'Oversync-Source-ID': `pullprobe-raw-${side.label}` };
      const t0 = performance.now();
      const res = await fetch(`${side.baseUrl}/sync/pull?after_bundle_seq=0&max_bundles=1000`, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${side.label} raw pull: ${res.status}`);
      times.get(side.label)!.push(performance.now() - t0);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const m = new Map([...times].map(([k, v]) => [k, median(v)]));
  console.log(
    `raw GET /sync/pull of ${ROWS} rows, median of ${GETS}: go-oversync ${m.get('go-oversync')!.toFixed(1)} ms, ours ${m.get('ours')!.toFixed(1)} ms; ours is ${(m.get('go-oversync')! / m.get('ours')!).toFixed(2)}x go's speed`,
  );
} finally {
  await ours.close();
  await go.close();
}
process.exit(0);
