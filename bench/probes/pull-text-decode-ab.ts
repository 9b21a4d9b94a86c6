/**
 * The client's body decoding of a pull page alone, A/B between checkouts: a Node HTTP server
 * answers a 10,000-row page shaped like ours (~4.4 MB, ASCII) in 64 KiB writes; per repeat, each
 * checkout's `SyncTransport.streamText` reads it (order alternating), counting the decoded text.
 * Prints per checkout the median CPU (this process: fetch, body reading, decoding) and wall ms.
 *
 *   npx tsx bench/probes/pull-text-decode-ab.ts /abs/base,/abs/new [repeats=21]
 */
import { createServer } from 'node:http';
const roots = process.argv[2]!.split(',');
const REPEATS = Number(process.argv[3] ?? 21);
const row = (i: number) =>
  `{"schema":"business","table":"typed_rows","key":{"id":"00000007-0000-4000-8000-${i.toString(16).padStart(12, '0')}"},"op":"INSERT","row_version":5,"payload":{"id":"x","name":"n${i}","note":"${'row '.padEnd(150, 'abc0123')}","count_value":"${i}","enabled_flag":true,"rating":"1.5"}}`;
const page = Buffer.from(
  `{"stable_bundle_seq":5,"bundles":[{"bundle_seq":5,"rows":[${Array.from({ length: 10000 }, (_, i) => row(i)).join(',')}]}],"has_more":false}`,
);
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  for (let i = 0; i < page.length; i += 65536) res.write(page.subarray(i, i + 65536));
  res.end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const clock = {
  now: () => Date.now(),
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  setTimeout: (f: () => void, ms: number) => setTimeout(f, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
  random: Math.random,
};
const sides = await Promise.all(
  roots.map(async (root) => {
    const { SyncTransport } = await import(`${root}/worker/engine/transport.ts`);
    const { AuthTokenSource } = await import(`${root}/worker/engine/auth-token.ts`);
    return new SyncTransport(`http://127.0.0.1:${port}`, () => 'src', new AuthTokenSource(async () => 'tok', clock), fetch, clock);
  }),
);
const cpu: number[][] = roots.map(() => []);
const wall: number[][] = roots.map(() => []);
for (let r = 0; r < REPEATS + 2; r++) {
  const order = r % 2 ? [...sides.keys()].reverse() : [...sides.keys()];
  for (const k of order) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sides[k]!.streamText({ method: 'GET', path: '/sync/pull' }, (t: string) => {
      n += t.length;
    });
    const w = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (n !== page.length) throw new Error(`length ${n}`);
    if (r >= 2) {
      cpu[k]!.push((c.user + c.system) / 1000);
      wall[k]!.push(w);
    }
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
roots.forEach((root, k) =>
  console.log(`${root}: cpu median ${med(cpu[k]!).toFixed(1)} ms, wall median ${med(wall[k]!).toFixed(1)} ms (n=${REPEATS})`),
);
server.close();
process.exit(0);
