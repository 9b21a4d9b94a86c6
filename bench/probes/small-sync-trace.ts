/**
 * The SQL our server runs for one small sync (write 5 rows + sync(): push session, chunk, commit,
 * pull) with go-oversync's example schema, as in bench group 7's load test: the harness server in
 * this process (example schema, wire dialect auto), one device and its partner on the same user,
 * every statement traced (client-side wall time of each round trip) and grouped by HTTP request.
 *
 *   npx tsx bench/probes/small-sync-trace.ts [--syncs 30] [--three-requests]
 *
 * `--three-requests`: the server without the one-request push (create, chunk, commit).
 */
import { readFile } from 'node:fs/promises';
import { startSyncServer } from '../../test/harness/sync-server.ts';
import type { SqlDatabase, SqlSession } from '../../server/database/types.ts';
import { LOCAL_TABLES } from '../../interop/node/support/example-schema.ts';
import { EXAMPLE_REMOTE_SCHEMA, openExampleDevice } from '../lib/example-device.ts';
import { median } from '../lib/stats.ts';

const i = process.argv.indexOf('--syncs');
const SYNCS = i >= 0 ? Number(process.argv[i + 1]) : 30;

let current = '';
const perRequest = new Map<string, { sql: string; ms: number }[][]>();
let open: { sql: string; ms: number }[] | null = null;

function traced(s: SqlSession): SqlSession {
  return {
    ...s,
    async query<R>(text: string, params?: readonly unknown[]) {
      const t0 = performance.now();
      try {
        return await s.query<R>(text, params);
      } finally {
        open?.push({ sql: text.replace(/\s+/g, ' ').trim().slice(0, 120), ms: performance.now() - t0 });
      }
    },
  } as SqlSession;
}

function wrap(db: SqlDatabase): SqlDatabase {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'query')
        return (text: string, params?: readonly unknown[]) => traced(target as unknown as SqlSession).query(text, params);
      if (prop === 'withConnection') return <T>(fn: (s: SqlSession) => Promise<T>) => target.withConnection((s) => fn(traced(s)));
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const h = await startSyncServer({
  purpose: 'probe_small_sync',
  schemaSql: await readFile(new URL('../../interop/our-server/example-schema.sql', import.meta.url), 'utf8'),
  tables: LOCAL_TABLES.map((t) => ({ schema: EXAMPLE_REMOTE_SCHEMA, table: t.table, syncKey: t.syncKey })),
  wireDialect: 'auto',
  oneRequestPush: !process.argv.includes('--three-requests'),
  wrapDatabase: wrap,
});
const tracingFetch: typeof fetch = async (input, init) => {
  const path = new URL(String(input)).pathname.replace(/\/[0-9a-f-]{8,}(?=\/|$)/g, '/:id').replace(/\/\d+(?=\/|$)/g, '/:n');
  current = `${init?.method ?? 'GET'} ${path}`;
  open = [];
  const list = open;
  const t0 = performance.now();
  const res = await fetch(input, init);
  const body = await res.arrayBuffer();
  list.push({ sql: `(request total)`, ms: performance.now() - t0 });
  (perRequest.get(current) ?? perRequest.set(current, []).get(current)!).push(list);
  open = null;
  return new Response(body, { status: res.status, headers: res.headers });
};
const a = await openExampleDevice(h.baseUrl, async () => h.tokenFor('u1'), { fetch: tracingFetch });
const b = await openExampleDevice(h.baseUrl, async () => h.tokenFor('u1'), { fetch: tracingFetch });
await a.engine.attach('u1');
await b.engine.attach('u1');
perRequest.clear();
for (let k = 0; k < SYNCS; k++) {
  const d = k % 2 ? b : a;
  d.insert(k % 2 ? 2 : 1, k * 5, 5);
  await d.engine.sync();
}
for (const [req, runs] of perRequest) {
  const last = runs.at(-1)!;
  const totals = runs.map((r) => r.at(-1)!.ms);
  console.log(
    `\n${req}: ${runs.length} requests, ${last.length - 1} statements each (last), request p50 ${median(totals).toFixed(2)} ms, SQL sum p50 ${median(runs.map((r) => r.slice(0, -1).reduce((s, x) => s + x.ms, 0))).toFixed(2)} ms`,
  );
  for (const s of last.slice(0, -1)) console.log(`  ${s.ms.toFixed(2).padStart(7)}  ${s.sql}`);
}
await a.close();
await b.close();
await h.close();
process.exit(0);
