/**
 * What one more WAL frame costs a commit on OPFS in Chromium, written as SQLite writes it through
 * opfs-sahpool (each frame a 24-byte header write and an 8 KiB page write, the commit's last frame
 * written once more to pad the WAL to a 4 KiB sector, then one flush) against the same bytes in one
 * write per commit. A synced single-row insert commits ~3.26 pages against a plain one's ~2.10
 * (`capture-pages.ts`); this prices the difference with no SQLite in the way: rounds of
 * `--commits` commits of 2 and 3 pages, both write patterns, alternating, on one sync access handle
 * in a dedicated worker (persistent profile, real on-disk OPFS). Prints ms per commit.
 *
 *   npx tsx bench/probes/opfs-commit-writes.ts [--commits 500] [--rounds 6]
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { chromium } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../lib/browser.ts';
import { median } from '../lib/stats.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const COMMITS = Number(arg('commits', '500'));
const ROUNDS = Number(arg('rounds', '6'));

// The worker: runs one round of `commits` commits of `pages` frames in the given pattern, answers ms per commit.
const WORKER = `
const PAGE = 8192, HEADER = 24, FRAME = PAGE + HEADER;
let handle, offset = 4096;
onmessage = async (e) => {
  const { pages, commits, coalesced } = e.data;
  if (!handle) {
    const root = await navigator.storage.getDirectory();
    const file = await root.getFileHandle('opfs-commit-writes.bin', { create: true });
    handle = await file.createSyncAccessHandle();
    handle.truncate(0);
  }
  const header = new Uint8Array(HEADER).fill(1), page = new Uint8Array(PAGE).fill(2);
  const whole = new Uint8Array(FRAME * (pages + 1)).fill(3);
  // A WAL that keeps growing until a checkpoint would reset it; restart every 1000 frames like SQLite's default.
  const t0 = performance.now();
  for (let c = 0; c < commits; c++) {
    if (offset > 4096 + 1000 * FRAME) offset = 4096;
    if (coalesced) {
      handle.write(whole, { at: offset });
      offset += whole.length;
    } else {
      for (let f = 0; f <= pages; f++) {
        handle.write(header, { at: offset });
        handle.write(page, { at: offset + HEADER });
        offset += FRAME;
      }
    }
    handle.flush();
  }
  postMessage((performance.now() - t0) / commits);
};`;
const PAGE = `<!doctype html><script>
const w = new Worker('/worker.js');
window.round = (args) => new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.postMessage(args); });
</script>`;

const server = createServer((req, res) => {
  const js = req.url === '/worker.js';
  res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
  res.end(js ? WORKER : PAGE);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const profile = mkdtempSync(join(tmpdir(), 'opfs-commit-writes-'));
console.log(`uptime before: ${execSync('uptime').toString().trim()}`);
const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArgs, headless: true });
try {
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  const series = new Map<string, number[]>();
  const variants = [
    { pages: 2, coalesced: false },
    { pages: 3, coalesced: false },
    { pages: 2, coalesced: true },
    { pages: 3, coalesced: true },
  ];
  for (let r = -1; r < ROUNDS; r++) {
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      const ms = (await page.evaluate((a) => (window as unknown as { round(a: object): Promise<number> }).round(a), {
        ...v,
        commits: COMMITS,
      })) as number;
      if (r < 0) continue; // warm-up round
      const key = `${v.pages} pages, ${v.coalesced ? 'one write a commit' : 'two writes a frame'}`;
      series.set(key, [...(series.get(key) ?? []), ms]);
    }
  }
  for (const [k, v] of series)
    console.log(`${k.padEnd(34)} median ${median(v).toFixed(3)} ms/commit  (${v.map((x) => x.toFixed(3)).join(' ')})`);
  for (const how of ['two writes a frame', 'one write a commit']) {
    const two = median(series.get(`2 pages, ${how}`)!);
    const three = median(series.get(`3 pages, ${how}`)!);
    // Each round ran the 2- and 3-page commits of a pattern back to back: their ratio per round is what load moves least.
    const twos = series.get(`2 pages, ${how}`)!;
    const paired = median(series.get(`3 pages, ${how}`)!.map((t, i) => twos[i]! / t));
    console.log(
      `${how}: 2-page ÷ 3-page commit time ${(two / three).toFixed(3)} (+${(three - two).toFixed(3)} ms for the third page); median of the rounds' ratios ${paired.toFixed(3)}`,
    );
  }
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`uptime after: ${execSync('uptime').toString().trim()}`);
process.exit(0);
