/**
 * Is group 7's first 10k bundle pull cold, and on which side? Starts go-oversync's example server
 * and ours fresh (as the group does), then runs `--cycles` push-then-pull cycles per server,
 * alternating as the group does (go, ours, ours, go, ...), and prints each pull's time; `--starts`
 * fresh pairs of servers. The first cycle of each server is what the group timed before it ran
 * an untimed warm-up cycle per server (session 18).
 *
 *   npx tsx bench/probes/pull-vs-go-cold.ts [--rows 10000] [--cycles 4] [--starts 3]
 */
import { openExampleDevice } from '../lib/example-device.ts';
import { locateGoReference, startGoReferenceServer } from '../lib/go-reference-server.ts';
import { median } from '../lib/stats.ts';
import { startExampleSyncServer } from '../lib/sync-server.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const CYCLES = Number(arg('cycles', '4'));
const STARTS = Number(arg('starts', '3'));
const found = await locateGoReference();
if (found.peerPath === null) throw new Error(found.reason);
const first = new Map<string, number[]>([
  ['go', []],
  ['ours', []],
]);
const later = new Map<string, number[]>([
  ['go', []],
  ['ours', []],
]);
let device = 1000;
for (let s = 0; s < STARTS; s++) {
  const go = await startGoReferenceServer(found.peerPath);
  const ours = await startExampleSyncServer();
  const sides = [
    { label: 'go', baseUrl: go.baseUrl, tokenFor: go.tokenFor },
    { label: 'ours', baseUrl: ours.baseUrl, tokenFor: ours.tokenFor },
  ];
  try {
    const line: string[] = [];
    for (let c = 0; c < CYCLES; c++) {
      for (const side of c % 2 ? [...sides].reverse() : sides) {
        const user = `cold-${Date.now().toString(36)}-${s}-${c}-${side.label}`;
        const puller = await openExampleDevice(side.baseUrl, () => side.tokenFor(user));
        await puller.engine.attach(user);
        const pusher = await openExampleDevice(side.baseUrl, () => side.tokenFor(user), { pushChunkRows: 5000 });
        await pusher.engine.attach(user);
        pusher.insert(++device, 0, ROWS);
        await pusher.engine.pushPending();
        const t0 = performance.now();
        const pulled = await puller.engine.pullToStable();
        const ms = performance.now() - t0;
        if (pulled.rowsApplied !== ROWS) throw new Error(`${side.label}: ${JSON.stringify(pulled)}`);
        await puller.close();
        await pusher.close();
        (c === 0 ? first : later).get(side.label)!.push(ms);
        line.push(`${side.label} ${ms.toFixed(0)}`);
      }
    }
    console.log(`start ${s + 1}: pull ms in run order: ${line.join(', ')}`);
  } finally {
    await ours.close();
    await go.close();
  }
}
for (const side of ['go', 'ours']) {
  console.log(
    `${side.padEnd(4)}: first cycle median ${median(first.get(side)!).toFixed(0)} ms, later cycles median ${median(later.get(side)!).toFixed(0)} ms`,
  );
}
process.exit(0);
