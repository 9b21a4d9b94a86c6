/**
 * Where a 10,000-row bundle pull's time goes, go-oversync's example server vs ours (bench group 7's
 * client and servers): a device pushes N rows, another device attached before pulls them; prints
 * the pull's total time and each HTTP request's wall time until its body is read (the rest is the
 * client applying rows). Repeats alternate the servers.
 *
 *   npx tsx bench/probes/pull-vs-go.ts [--rows 10000] [--repeats 3]
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

const found = await locateGoReference();
if (found.peerPath === null) throw new Error(found.reason);
const go = await startGoReferenceServer(found.peerPath);
const ours = await startExampleSyncServer();
const sides = [{ label: 'go-oversync', baseUrl: go.baseUrl, tokenFor: go.tokenFor }, { label: 'ours', baseUrl: ours.baseUrl, tokenFor: ours.tokenFor }];
try {
  for (let r = 0; r < REPEATS; r++) {
    for (const side of r % 2 ? [...sides].reverse() : sides) {
      const user = `pullprobe-${Date.now().toString(36)}-${r}`;
      const requests: string[] = [];
      const timed: typeof fetch = async (input, init) => {
        const t0 = performance.now();
        const res = await fetch(input, init);
        const body = await res.arrayBuffer();
        requests.push(`${new URL(String(input)).pathname.replace(/\/[0-9a-f-]{8,}/g, '/:id')} ${(performance.now() - t0).toFixed(0)} ms ${(body.byteLength / 1024).toFixed(0)} KiB`);
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
      console.log(`${side.label.padEnd(11)} pull of ${pulled.rowsApplied} rows: ${(performance.now() - t0).toFixed(0)} ms; requests: ${requests.join('; ')}`);
      await puller.close();
      await pusher.close();
    }
  }
} finally {
  await ours.close();
  await go.close();
}
process.exit(0);
