/**
 * Interleaved A/B of a large pull page between two checkouts of this repository (issue 16 item 5):
 * `--old <dir>` is a checkout of the old code (its own `node_modules` link), this checkout is the
 * new. Both servers run the example schema on fresh databases of the same PostgreSQL; a device of
 * each side's own client code pushes N rows to its server, then, alternating old/new/new/old:
 * - `pull`: a device of that side's client, attached before the push, `pullToStable()`s the rows
 *   (wall ms, and the puller process's CPU ms during it: client only, the server is a child), and
 *   `tail`: the part of it after the page's last byte came (the client's work nothing overlapped);
 * - `get`: a raw `GET /sync/pull` of the page, time to first byte and to the last (the server alone).
 * Prints medians and the spread of each.
 *
 *   npx tsx bench/probes/pull-stream-ab.ts --old /tmp/old [--rows 10000] [--repeats 8] [--gets 20]
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const REPEATS = Number(arg('repeats', '8'));
const GETS = Number(arg('gets', '20'));
const oldDir = resolve(arg('old', ''));

interface Side {
  label: 'old' | 'new';
  baseUrl: string;
  tokenFor(user: string): Promise<string>;
  close(): Promise<void>;
  openDevice: typeof import('../lib/example-device.ts').openExampleDevice;
  user: string;
}

async function side(label: 'old' | 'new', root: string): Promise<Side> {
  const lib = (await import(pathToFileURL(`${root}/bench/lib/sync-server.ts`).href)) as typeof import('../lib/sync-server.ts');
  const dev = (await import(pathToFileURL(`${root}/bench/lib/example-device.ts`).href)) as typeof import('../lib/example-device.ts');
  const server = await lib.startExampleSyncServer();
  return {
    label,
    ...server,
    close: server.close,
    tokenFor: server.tokenFor,
    baseUrl: server.baseUrl,
    openDevice: dev.openExampleDevice,
    user: '',
  };
}

const sides = [await side('old', oldDir), await side('new', resolve(import.meta.dirname, '../..'))];
const results = new Map<string, number[]>();
const note = (k: string, v: number): void => void (results.get(k) ?? results.set(k, []).get(k)!).push(v);
try {
  for (let r = 0; r < REPEATS; r++) {
    for (const s of r % 2 ? [...sides].reverse() : sides) {
      const user = `ab-${s.label}-${Date.now().toString(36)}-${r}`;
      let lastByte = 0;
      // The body passed through as it comes, noting when its end arrived.
      const noting: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        if (!String(input).includes('/sync/pull') || res.body === null) return res;
        const body = res.body.pipeThrough(new TransformStream({ flush: () => void (lastByte = performance.now()) }));
        return new Response(body, { status: res.status, headers: res.headers });
      };
      const puller = await s.openDevice(s.baseUrl, () => s.tokenFor(user), { fetch: noting });
      await puller.engine.attach(user);
      const pusher = await s.openDevice(s.baseUrl, () => s.tokenFor(user), { pushChunkRows: 5000 });
      await pusher.engine.attach(user);
      pusher.insert(7, 0, ROWS);
      await pusher.engine.pushPending();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const pulled = await puller.engine.pullToStable();
      const t1 = performance.now();
      note(`${s.label} pull wall`, t1 - t0);
      note(`${s.label} pull tail`, t1 - lastByte);
      const c = process.cpuUsage(c0);
      note(`${s.label} pull client cpu`, (c.user + c.system) / 1000);
      if (pulled.rowsApplied !== ROWS || puller.count() !== ROWS) throw new Error(`${s.label}: pulled ${JSON.stringify(pulled)}`);
      await puller.close();
      await pusher.close();
      s.user = user;
    }
  }
  for (let g = 0; g < GETS; g++) {
    for (const s of g % 2 ? [...sides].reverse() : sides) {
      const headers = { Authorization: `Bearer ${await s.tokenFor(s.user)}`, 'Oversync-Source-ID': `ab-raw-${s.label}` };
      const t0 = performance.now();
      const res = await fetch(`${s.baseUrl}/sync/pull?after_bundle_seq=0&max_bundles=1000`, { headers });
      const reader = res.body!.getReader();
      let first = 0;
      for (;;) {
        const { done } = await reader.read();
        if (!first) first = performance.now() - t0;
        if (done) break;
      }
      note(`${s.label} get first byte`, first);
      note(`${s.label} get last byte`, performance.now() - t0);
    }
  }
} finally {
  for (const s of sides) await s.close();
}
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
for (const [k, v] of [...results].sort()) {
  const s = sorted(v);
  console.log(
    `${k.padEnd(22)} median ${s[s.length >> 1]!.toFixed(1).padStart(7)} ms  (min ${s[0]!.toFixed(1)}, max ${s[s.length - 1]!.toFixed(1)}, n ${s.length})`,
  );
}
process.exit(0);
