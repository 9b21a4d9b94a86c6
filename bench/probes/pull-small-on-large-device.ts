/**
 * Small pulls on a device that already holds many rows (a live sync of a large device): one
 * device per checkout in ENGINE_ROOTS hydrates N `typed_rows` of our example server (snapshot),
 * then, per repeat, another device pushes 5 rows and every checkout's device pulls them
 * (`pullToStable`, timed; the order alternates). Prints the median pull time per checkout.
 *
 *   ENGINE_ROOTS=/tmp/base,. npx tsx bench/probes/pull-small-on-large-device.ts [--rows 100000] [--repeats 15]
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '100000'));
const REPEATS = Number(arg('repeats', '15'));
const roots = (process.env.ENGINE_ROOTS ?? '.').split(',').map((r) => pathToFileURL(`${resolve(r)}/`).href);

type DeviceModule = typeof import('../lib/example-device.ts');
const { startExampleSyncServer } = await import('../lib/sync-server.ts');
const ours = await startExampleSyncServer();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  const user = `pullsmall-${Date.now().toString(36)}`;
  const token = () => ours.tokenFor(user);
  const base = (await import(`${roots[0]}bench/lib/example-device.ts`)) as DeviceModule;
  const pusher = await base.openExampleDevice(ours.baseUrl, token, { pushChunkRows: 5000 });
  await pusher.engine.attach(user);
  pusher.insert(7, 0, ROWS);
  await pusher.engine.pushPending();
  const devices = [];
  for (const root of roots) {
    const module = (await import(`${root}bench/lib/example-device.ts`)) as DeviceModule;
    const d = await module.openExampleDevice(ours.baseUrl, token);
    await d.engine.attach(user);
    await d.engine.pullToStable();
    if (d.count() !== ROWS) throw new Error(`${root}: ${d.count()} rows after attach`);
    devices.push({ root, d, times: [] as number[] });
  }
  for (let r = 0; r < REPEATS; r++) {
    pusher.insert(7, ROWS + r * 5, 5);
    await pusher.engine.pushPending();
    for (const x of r % 2 ? [...devices].reverse() : devices) {
      const t0 = performance.now();
      const pulled = await x.d.engine.pullToStable();
      x.times.push(performance.now() - t0);
      if (pulled.rowsApplied !== 5) throw new Error(`${x.root}: pulled ${JSON.stringify(pulled)}`);
    }
  }
  for (const x of devices)
    console.log(`${x.root}: median pull of 5 rows ${median(x.times).toFixed(1)} ms (${x.times.map((t) => t.toFixed(0)).join(', ')})`);
  for (const x of devices) await x.d.close();
  await pusher.close();
} finally {
  await ours.close();
}
process.exit(0);
