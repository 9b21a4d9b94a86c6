/**
 * Probe of the client's share of the live path (not part of `npm run bench`): a Node device (real
 * engine, sqlite-wasm memory VFS, a scripted server at the fetch seam answering at once) runs what
 * device B runs on each watch wake-up — `sync()` with nothing to push, pulling one bundle of one
 * row — and what device A runs for one written row: `pushPending()` (one-request push). Reports,
 * per step, the SQL statements SQLite ran (`sqlite3_trace_v2`) and the median CPU time.
 *
 *   node --import tsx bench/probes/live-step-statements.ts [repeats=300] [--sql]
 *   ENGINE_ROOTS=/tmp/base,. node --import tsx bench/probes/live-step-statements.ts   # A/B, interleaved
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { openEngine, attachStartedEmpty } from '../../test/engine/support/engine.ts';
import { PushResponder } from '../../test/engine/support/push-responder.ts';
import { median } from '../lib/stats.ts';

const repeats = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 300);
const showSql = process.argv.includes('--sql');
const roots = (process.env.ENGINE_ROOTS ?? '.').split(',').map((r) => pathToFileURL(`${resolve(r)}/`).href);

async function device(root: string) {
  const { SyncEngine } = (await import(`${root}worker/engine/index.ts`)) as typeof import('../../worker/engine/index.ts');
  const s = await openEngine('CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, n INTEGER, body TEXT)', [
    { table: 'items', syncKey: 'id' },
  ]);
  await s.engine.close();
  s.engine = await SyncEngine.open(s.options);
  await attachStartedEmpty(s);
  new PushResponder().install(s.server);
  const statements: string[] = [];
  const { capi, wasm } = s.sqlite3;
  const cb = wasm.installFunction('iippp', (_t: number, _c: number, p: number) => {
    statements.push(capi.sqlite3_expanded_sql(p) ?? '?');
    return 0;
  });
  (capi.sqlite3_trace_v2 as unknown as (...args: unknown[]) => number)(s.db.pointer!, capi.SQLITE_TRACE_STMT, cb, 0);
  let seq = 0;
  return {
    root,
    s,
    statements,
    /** B: a wake-up sync that pulls one bundle of one row. */
    async pullOne(i: number) {
      seq = Number(s.db.selectValue('SELECT last_bundle_seq_seen FROM _sync_attachment_state')) + 1;
      s.server.on('GET', '/sync/pull', {
        status: 200,
        body: {
          stable_bundle_seq: seq,
          has_more: false,
          bundles: [
            {
              bundle_seq: seq,
              source_id: 'other',
              source_bundle_id: seq,
              rows: [
                {
                  schema: 'main',
                  table: 'items',
                  key: { id: `r${i}` },
                  op: 'INSERT',
                  row_version: seq,
                  payload: { id: `r${i}`, n: i, body: 'x'.repeat(180) },
                },
              ],
            },
          ],
        },
      });
      await s.engine.sync();
    },
    /** A: one row written, then pushed. */
    async pushOne(i: number) {
      s.db.exec({ sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)', bind: [`w${i}`, i, 'y'.repeat(180)] });
      await s.engine.pushPending();
    },
  };
}

const devices = await Promise.all(roots.map(device));
for (const step of ['pullOne', 'pushOne'] as const) {
  const cpu = devices.map(() => [] as number[]);
  const counts = devices.map(() => [] as number[]);
  for (let i = 0; i < repeats; i++) {
    for (const [d, dev] of devices.entries()) {
      dev.statements.length = 0;
      const t0 = process.cpuUsage();
      await dev[step](i);
      const t = process.cpuUsage(t0);
      cpu[d]!.push((t.user + t.system) / 1000);
      counts[d]!.push(dev.statements.length);
      if (showSql && i === repeats - 1) console.log(`${dev.root} ${step}:\n  ${dev.statements.join('\n  ')}`);
    }
  }
  for (const [d, dev] of devices.entries())
    console.log(`${step} ${dev.root}: ${median(counts[d]!)} statements, CPU median ${median(cpu[d]!).toFixed(3)} ms`);
}
