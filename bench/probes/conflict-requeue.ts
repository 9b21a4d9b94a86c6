/**
 * Probe of push conflict resolution on a large offline backlog (not part of `npm run bench`): a
 * device holds N pending inserts; the push loop's conflict rounds are replayed without a server
 * (freeze the outbox, resolve one reported conflict as `keep: 'local'`, which before session 15
 * gave the whole bundle back and requeued the conflicting row, and since revises that row in the
 * frozen bundle, so the "freeze" reads the outbox back), C times on C distinct keys. End to end
 * against a server: `conflict-rounds.ts`. Reports per checkout
 * the median over repeats of the time spent in `resolveConflict` and in the re-freeze, and the
 * checkouts' ratio. Every checkout in ENGINE_ROOTS runs in the same process, alternating each
 * repeat (the order reverses every other repeat), so load falls on each alike.
 *
 * `--statement K` also times the conflicting row's requeue statement alone, before (with the
 * guard that looked for its place being taken: a scan of the dirty set, which has no ordinal
 * index since layout 5) and after, K times each alternating, on the N pending rows.
 *
 *   ENGINE_ROOTS=/tmp/base,. npx tsx bench/probes/conflict-requeue.ts [--rows 20000] [--conflicts 2000] [--repeats 5] [--statement 0]
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { PushConflictDetail } from '../../protocol/index.ts';
import type { EngineContext } from '../../worker/engine/context.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '20000'));
const CONFLICTS = Number(arg('conflicts', '2000'));
const REPEATS = Number(arg('repeats', '5'));
const STATEMENT = Number(arg('statement', '0'));
const roots = (process.env.ENGINE_ROOTS ?? '.').split(',').map((r) => pathToFileURL(`${resolve(r)}/`).href);

interface Modules {
  engine: typeof import('../../worker/engine/index.ts');
  outbox: typeof import('../../worker/engine/outbox.ts');
  conflicts: typeof import('../../worker/engine/conflicts.ts');
}
interface Side {
  label: string;
  mods: Modules;
  resolveMs: number[];
  freezeMs: number[];
}

const sqlite3 = await sqlite3InitModule();
const sides: Side[] = [];
for (const [i, root] of roots.entries()) {
  sides.push({
    label: `${i}: ${process.env.ENGINE_ROOTS?.split(',')[i] ?? '.'}`,
    mods: {
      engine: (await import(`${root}worker/engine/index.ts`)) as Modules['engine'],
      outbox: (await import(`${root}worker/engine/outbox.ts`)) as Modules['outbox'],
      conflicts: (await import(`${root}worker/engine/conflicts.ts`)) as Modules['conflicts'],
    },
    resolveMs: [],
    freezeMs: [],
  });
}

const body = 'x'.repeat(170);
const keyOf = (i: number): string => `k-${String(i).padStart(7, '0')}`;

/** One run: N pending inserts, C conflict rounds; returns [ms in resolveConflict, ms in freezes]. */
async function run(side: Side): Promise<[number, number]> {
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  db.exec('CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL, body TEXT NOT NULL)');
  const engine = await side.mods.engine.SyncEngine.open({
    sqlite3,
    db,
    remoteSchema: 'bench',
    tables: [{ table: 'items', syncKey: 'id' }],
    serverUrl: 'http://127.0.0.1:9/',
    getToken: async () => 'unused',
    fetch: () => Promise.reject(new Error('no server in this probe')),
    conflicts: 'client-wins',
  });
  const ctx = (engine as unknown as { ctx: EngineContext }).ctx;
  db.transaction(() => {
    const stmt = db.prepare('INSERT INTO items (id, n, body) VALUES (?, ?, ?)');
    try {
      for (let i = 0; i < ROWS; i++) stmt.bind([keyOf(i), i, body]).stepReset();
    } finally {
      stmt.finalize();
    }
  });
  const step = Math.max(1, Math.floor(ROWS / CONFLICTS));
  let resolveMs = 0;
  let freezeMs = 0;
  for (let c = 0; c < CONFLICTS; c++) {
    let t = performance.now();
    const { rows } = side.mods.outbox.freezeOutbox(ctx, 'user-1', 'source-1', null);
    freezeMs += performance.now() - t;
    const i = (c * step) % ROWS;
    const detail: PushConflictDetail = {
      schema: 'bench',
      table: 'items',
      key: { id: keyOf(i) },
      op: 'INSERT',
      base_row_version: 0,
      server_row_version: 7,
      server_row_deleted: false,
      server_row: { id: keyOf(i), n: -i, body: 'server' },
    } as PushConflictDetail;
    t = performance.now();
    await side.mods.conflicts.resolveConflict(ctx, detail, rows);
    resolveMs += performance.now() - t;
  }
  // Since session 15 a `keep: 'local'` resolution revises the frozen bundle in place (nothing is
  // given back to the dirty set): the rows are then pending in the outbox.
  const pending = Number(db.selectValue('SELECT (SELECT COUNT(*) FROM _sync_dirty_rows) + (SELECT COUNT(*) FROM _sync_outbox_rows)'));
  const distinct = Number(
    db.selectValue('SELECT (SELECT COUNT(DISTINCT dirty_ordinal) FROM _sync_dirty_rows) + (SELECT COUNT(*) FROM _sync_outbox_rows)'),
  );
  if (pending !== ROWS || distinct !== ROWS) throw new Error(`${side.label}: ${pending} pending, ${distinct} distinct ordinals`);
  await engine.close();
  db.close();
  return [resolveMs, freezeMs];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

console.log(`${ROWS} pending rows, ${CONFLICTS} conflict rounds, ${REPEATS} repeats`);
for (let r = 0; r < REPEATS; r++) {
  const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
  for (const side of r % 2 ? order.reverse() : order) {
    const [resolveMs, freezeMs] = await run(side);
    side.resolveMs.push(resolveMs);
    side.freezeMs.push(freezeMs);
    console.log(`  repeat ${r} ${side.label}: resolveConflict ${resolveMs.toFixed(0)} ms, freezes ${freezeMs.toFixed(0)} ms`);
  }
}
for (const side of sides) {
  console.log(
    `${side.label}: median resolveConflict ${median(side.resolveMs).toFixed(0)} ms ` +
      `(${((median(side.resolveMs) * 1000) / CONFLICTS).toFixed(0)} µs/conflict), freezes ${median(side.freezeMs).toFixed(0)} ms`,
  );
}
if (sides.length > 1) {
  const base = median(sides[0]!.resolveMs);
  for (const side of sides.slice(1))
    console.log(`${side.label}: resolveConflict ${(base / median(side.resolveMs)).toFixed(2)}x faster than 0`);
}

if (STATEMENT > 0) {
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  db.exec(
    'CREATE TABLE _sync_dirty_rows (schema_name TEXT NOT NULL, table_name TEXT NOT NULL, key_json TEXT NOT NULL, ' +
      "op TEXT NOT NULL CHECK (op IN ('INSERT','UPDATE','DELETE')), base_row_version INTEGER NOT NULL DEFAULT 0, payload TEXT, " +
      'dirty_ordinal INTEGER NOT NULL, PRIMARY KEY (schema_name, table_name, key_json)) WITHOUT ROWID',
  );
  db.exec({
    sql:
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) ' +
      "INSERT INTO _sync_dirty_rows SELECT 'bench', 'items', json_object('id', printf('k-%07d', i)), 'INSERT', 0, NULL, i FROM n",
    bind: [ROWS],
  });
  const head = 'INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ';
  const tail = ' ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET base_row_version = excluded.base_row_version';
  const variants = {
    guarded:
      head +
      'VALUES (?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN EXISTS (SELECT 1 FROM _sync_dirty_rows WHERE dirty_ordinal = ?7) ' +
      'THEN (SELECT MIN(dirty_ordinal) - 1 FROM _sync_dirty_rows) ELSE ?7 END)' +
      tail,
    plain: head + 'VALUES (?, ?, ?, ?, ?, ?, ?)' + tail,
  };
  const times: Record<keyof typeof variants, number[]> = { guarded: [], plain: [] };
  for (let k = 0; k < STATEMENT; k++) {
    for (const name of (k % 2 ? ['plain', 'guarded'] : ['guarded', 'plain']) as (keyof typeof variants)[]) {
      db.exec('SAVEPOINT s');
      const t = performance.now();
      db.exec({ sql: variants[name], bind: ['bench', 'items', '{"id":"requeued"}', 'UPDATE', 7, null, -k] });
      times[name].push(performance.now() - t);
      db.exec('ROLLBACK TO s; RELEASE s');
    }
  }
  const g = median(times.guarded);
  const p = median(times.plain);
  console.log(
    `requeue statement on ${ROWS} pending rows: guarded ${(g * 1000).toFixed(0)} µs, plain ${(p * 1000).toFixed(0)} µs (${(g / p).toFixed(1)}x)`,
  );
  db.close();
}
