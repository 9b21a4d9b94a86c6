/**
 * Probe of a long-offline device's push meeting many conflicts, end to end against the bench sync
 * server (child process, real PostgreSQL, real HTTP); not part of `npm run bench`. Per run, a fresh
 * user: device A inserts K rows and syncs, device B attaches (hydrates them), A updates (or, with
 * `--remote delete`, deletes) the K rows and syncs (their server versions move on), B, offline meanwhile, inserts N - K rows and updates
 * the same K rows, then syncs once. Reports the time of B's sync until its push has fully landed,
 * the conflicts it resolved, and its requests by kind (commit attempts = push rounds).
 *
 * Every checkout in ENGINE_ROOTS runs in the same process, alternating per repeat (the order
 * reverses every other repeat), so load falls on each alike.
 *
 *   ENGINE_ROOTS=/tmp/base,. npx tsx bench/probes/conflict-rounds.ts [--rows 20000] [--conflicts 10] [--repeats 3] [--strategy server-wins] [--remote update|delete]
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { startBenchSyncServer } from '../lib/sync-server.ts';
import { nodeSqlite } from '../lib/node-device.ts';
import { itemBody, itemKey, itemsSchema, itemsSyncTables, remoteSchema } from '../app/schema.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '20000'));
const CONFLICTS = Number(arg('conflicts', '10'));
const REPEATS = Number(arg('repeats', '3'));
const STRATEGY = arg('strategy', 'server-wins') as 'server-wins' | 'client-wins';
// What A does to the K rows: edits them, or deletes them.
const REMOTE = arg('remote', 'update') as 'update' | 'delete';
const rootNames = (process.env.ENGINE_ROOTS ?? '.').split(',');
const roots = rootNames.map((r) => pathToFileURL(`${resolve(r)}/`).href);

type EngineModule = typeof import('../../worker/engine/index.ts');
interface Side {
  label: string;
  mod: EngineModule;
  ms: number[];
  requests: string[];
}

// Requests of B's sync by kind, counted around the real fetch (engines bind globalThis.fetch when
// they open, so the wrapper goes in first).
const counts = new Map<string, { n: number; ms: number }>();
let recording = false;
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  if (!recording) return realFetch(input, init);
  const path = new URL(String(input)).pathname.replace(/\/[0-9a-f-]{8,}|\/\d+/g, '/:id');
  const key = `${init?.method ?? 'GET'} ${path}`;
  const t = performance.now();
  try {
    const res = await realFetch(input, init);
    // Include the body transfer: the transport reads it right after.
    const body = await res.text();
    return new Response(body, { status: res.status, headers: res.headers });
  } finally {
    const c = counts.get(key) ?? { n: 0, ms: 0 };
    c.n++;
    c.ms += performance.now() - t;
    counts.set(key, c);
  }
};

const sides: Side[] = [];
for (const [i, root] of roots.entries()) {
  sides.push({
    label: `${i}: ${rootNames[i]}`,
    mod: (await import(`${root}worker/engine/index.ts`)) as EngineModule,
    ms: [],
    requests: [],
  });
}

const sqlite3 = await nodeSqlite();
const server = await startBenchSyncServer();
const stamp = Date.now().toString(36);
let runNo = 0;

async function open(side: Side, token: string, conflicts: 'server-wins' | 'client-wins') {
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  for (const migration of itemsSchema.migrations) db.exec(migration);
  const engine = await side.mod.SyncEngine.open({
    sqlite3,
    db,
    remoteSchema,
    tables: itemsSyncTables.map((t) => ({ ...t })),
    serverUrl: server.baseUrl,
    getToken: async () => token,
    conflicts,
  });
  return { db, engine };
}

async function run(side: Side): Promise<number> {
  const user = `rounds-${stamp}-${++runNo}`;
  const token = await server.tokenFor(user);
  const a = await open(side, token, 'server-wins');
  const b = await open(side, token, STRATEGY);
  try {
    await a.engine.attach(user);
    a.db.transaction(() => {
      for (let i = 0; i < CONFLICTS; i++)
        a.db.exec({ sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)', bind: [itemKey('c', i), i, itemBody(i)] });
    });
    await a.engine.sync();
    await b.engine.attach(user);
    await b.engine.sync();
    a.db.exec(REMOTE === 'delete' ? 'DELETE FROM items' : "UPDATE items SET body = 'from A'");
    await a.engine.sync();
    // B, offline all along: a backlog of inserts and an edit of every row A also edited.
    b.db.transaction(() => {
      const stmt = b.db.prepare('INSERT INTO items (id, n, body) VALUES (?, ?, ?)');
      try {
        for (let i = 0; i < ROWS - CONFLICTS; i++) stmt.bind([itemKey('p', i), i, itemBody(i)]).stepReset();
      } finally {
        stmt.finalize();
      }
    });
    b.db.exec("UPDATE items SET body = 'from B' WHERE id LIKE 'c%'");
    counts.clear();
    recording = true;
    const t0 = performance.now();
    let res;
    try {
      res = await b.engine.sync();
    } finally {
      recording = false;
    }
    const ms = performance.now() - t0;
    if (res.push.outcome !== 'committed' || res.push.conflicts !== CONFLICTS)
      throw new Error(`${side.label}: push ${JSON.stringify(res.push)}`);
    const pending = Number(b.db.selectValue('SELECT COUNT(*) FROM _sync_dirty_rows'));
    const rowsOnB = Number(b.db.selectValue('SELECT COUNT(*) FROM items'));
    const fromA = Number(b.db.selectValue("SELECT COUNT(*) FROM items WHERE body = 'from A'"));
    const want = STRATEGY === 'server-wins' && REMOTE === 'update' ? CONFLICTS : 0;
    const wantRows = STRATEGY === 'server-wins' && REMOTE === 'delete' ? ROWS - CONFLICTS : ROWS;
    if (pending !== 0 || rowsOnB !== wantRows || fromA !== want)
      throw new Error(`${side.label}: pending ${pending}, rows ${rowsOnB}, 'from A' ${fromA} (want ${want})`);
    const waited = [...counts.values()].reduce((sum, c) => sum + c.ms, 0);
    side.requests.push(
      `http ${waited.toFixed(0)} ms, client ${(ms - waited).toFixed(0)} ms | ` +
        [...counts].map(([k, c]) => `${k} ×${c.n} ${c.ms.toFixed(0)} ms`).join('; '),
    );
    return ms;
  } finally {
    await a.engine.close();
    await b.engine.close();
    a.db.close();
    b.db.close();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

try {
  console.log(`${ROWS} pending rows, ${CONFLICTS} conflicting (${REMOTE}d by A), ${STRATEGY}, ${REPEATS} repeats`);
  for (let r = 0; r < REPEATS; r++) {
    const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
    for (const side of r % 2 ? order.reverse() : order) {
      const ms = await run(side);
      side.ms.push(ms);
      console.log(`  repeat ${r} ${side.label}: sync ${ms.toFixed(0)} ms | ${side.requests.at(-1)}`);
    }
  }
  for (const side of sides) console.log(`${side.label}: median sync ${median(side.ms).toFixed(0)} ms`);
  if (sides.length > 1) {
    const base = median(sides[0]!.ms);
    for (const side of sides.slice(1)) console.log(`${side.label}: ${(base / median(side.ms)).toFixed(2)}x faster than 0`);
  }
} finally {
  await server.close();
}
