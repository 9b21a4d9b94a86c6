/**
 * Probe: the server's share of a large snapshot (issue 6). Serves the server library over real
 * HTTP on a PostgreSQL database seeded with PROBE_ROWS (1,000,000) bench rows (~200 B) of one user
 * as server-originated bundles (`writeAs`, 50,000 rows each, like bench/lib/sync-server.ts), then
 * times `POST /sync/snapshot-sessions` and reading every chunk (the client's JSON.parse included)
 * with the default and the maximum chunk limits, and deletes the session.
 *
 *   npx tsx bench/probes/server-snapshot.ts
 *
 * The seeded database is kept (PROBE_DB, default `oversqlite_probe_snapshot`) and reused by later
 * runs, since seeding 1M rows takes minutes; drop it by hand when done.
 * "cpu pg" of the create includes its parallel workers (sampled, see withParallelWorkerCpu).
 * Env:
 * - PROBE_ROWS (1000000), PROBE_DB, PROBE_REPEAT (3): rounds;
 * - PROBE_SERVER_ROOTS: comma-separated checkouts whose `server/` is measured (default: this one).
 *   Several roots are measured interleaved (A, B, A, B, ...) on the same database, for before/after;
 * - PROBE_MODES (`default,max`): chunk limits used for the reads (`default` = no max_rows/max_bytes
 *   sent, `max` = the advertised caps, `create` = no reads: only the build, for A/Bs of it);
 * - PROBE_INFLIGHT (1): chunk requests in flight at once (a pipelining client);
 * - PROBE_PIECE_ROWS: the server's `snapshotBuildPieceRows` per root, comma-separated in the
 *   order of the roots (`0` = the one-transaction build; roots may repeat: `0,50000` on one root);
 * - PROBE_FRESH=1: a new database for every round, seeded through the started server and left
 *   as the seeding left it (no VACUUM ANALYZE): the snapshot is built right after the rows were
 *   written, as in the pull group's 1M hydrate (no planner statistics, hint bits unset);
 * - PROBE_EXPLAIN=1: logs EXPLAIN (ANALYZE, BUFFERS) of every statement over 200 ms through
 *   auto_explain, and the duration of every statement over 100 ms, to the PostgreSQL server log
 *   (the database settings are reset afterwards).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import pg from 'pg';
import { BENCH_PG_SCHEMA_SQL, BENCH_TABLES } from '../lib/bench-schema.ts';

const ROWS = Number(process.env.PROBE_ROWS ?? 1_000_000);
const DB = process.env.PROBE_DB ?? 'oversqlite_probe_snapshot';
const REPEAT = Number(process.env.PROBE_REPEAT ?? 3);
const ROOTS = (process.env.PROBE_SERVER_ROOTS ?? path.resolve(import.meta.dirname, '../..')).split(',').map((r) => path.resolve(r));
const INFLIGHT = Number(process.env.PROBE_INFLIGHT ?? 1);
const MODES = (process.env.PROBE_MODES ?? 'default,max').split(',') as ('default' | 'max' | 'create')[];
const FRESH = process.env.PROBE_FRESH === '1';
/** Server `snapshotBuildPieceRows` per root (same order; empty = the server's default), e.g. `0,50000` on one root twice. */
const PIECE_ROWS = (process.env.PROBE_PIECE_ROWS ?? '').split(',').map((v) => (v.trim() === '' ? undefined : Number(v)));
const ADMIN_URL = process.env.OVERSQLITE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const USER = 'probe-user';

const dbUrl = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${DB}`;
  return u.toString();
})();

// The server library's surface the probe uses (a checkout's server/index.ts).
type ServerLib = typeof import('../../server/index.ts');

async function loadServer(root: string): Promise<ServerLib> {
  return (await import(pathToFileURL(path.join(root, 'server/index.ts')).href)) as ServerLib;
}

async function adminQuery(sql: string, url = ADMIN_URL): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Creates and seeds the database unless a previous run left it complete. */
async function ensureSeeded(lib: ServerLib): Promise<void> {
  const exists = (await adminQuery(`SELECT 1 FROM pg_database WHERE datname = '${DB}'`)).rowCount! > 0;
  if (exists) {
    const n = await adminQuery(`SELECT count(*)::int AS n FROM bench.items`, dbUrl).catch(() => null);
    if (n?.rows[0]?.n === ROWS) return;
  }
  await createDatabase();
  const database = lib.createPostgresDatabase({ connectionString: dbUrl, maxConnections: 4 });
  const server = await lib.createSyncServer({ database, tables: BENCH_TABLES });
  await seed(server);
  await server.close();
  await database.close();
  await adminQuery('VACUUM ANALYZE', dbUrl);
}

/** An empty probe database with the bench schema (dropped first if there). */
async function createDatabase(): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE "${DB}"`);
  await adminQuery(BENCH_PG_SCHEMA_SQL, dbUrl);
}

/** PROBE_ROWS bench rows for USER through `server`, as server-originated bundles of 50,000. */
async function seed(server: Awaited<ReturnType<ServerLib['createSyncServer']>>): Promise<void> {
  const t0 = performance.now();
  for (let start = 0; start < ROWS; start += 50_000) {
    const end = Math.min(ROWS, start + 50_000) - 1;
    await server.writeAs(USER, 'probe-seeder', (tx) =>
      tx.query(
        `INSERT INTO bench.items (id, n, body)
       SELECT 's-' || lpad(g::text, 7, '0'), g, rpad('row ' || g || ' ', 170, 'abcdefghijklmnopqrstuvwxyz0123456789')
       FROM generate_series($1::int, $2::int) AS g`,
        [start, end],
      ),
    );
  }
  console.log(`seeded ${ROWS} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

interface Started {
  baseUrl: string;
  server: Awaited<ReturnType<ServerLib['createSyncServer']>>;
  close(): Promise<void>;
}

async function start(lib: ServerLib, pieceRows?: number): Promise<Started> {
  // The server's default pool (a piecewise build holds two connections while 4 chunk reads run).
  const database = lib.createPostgresDatabase({ connectionString: dbUrl, maxConnections: 10 });
  const limits = pieceRows === undefined ? undefined : ({ snapshotBuildPieceRows: pieceRows } as Record<string, number>);
  const server = await lib.createSyncServer({ database, tables: BENCH_TABLES, limits });
  const http = createServer(
    lib.toNodeHandler(
      (req, a) => server.handle(req, a),
      async () => ({ userId: USER }),
    ),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    server,
    async close() {
      await server.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await database.close();
    },
  };
}

const headers = { 'Oversync-Source-ID': 'probe-device', 'Content-Type': 'application/json' };

async function call(url: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return text === '' ? null : JSON.parse(text);
}

/**
 * CPU seconds used so far by this database's PostgreSQL backends (from /proc, same machine), so
 * that phases can be compared on a loaded machine where wall time mostly measures the neighbours.
 * Backends that exit between two readings take their CPU with them; the pool keeps them open.
 */
async function pgCpuMs(): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const pids = (await adminQuery(`SELECT pid FROM pg_stat_activity WHERE datname = '${DB}' AND pid <> pg_backend_pid()`)).rows.map(
    (r) => r.pid as number,
  );
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]);
      cpuSeen.set(pid, Number(f[11]) + Number(f[12]));
    } catch {
      ticks += cpuSeen.get(pid) ?? 0;
    }
  }
  return ticks * 10;
}
const cpuSeen = new Map<number, number>();

/**
 * CPU of the parallel workers that run while `work` does: they exit before pgCpuMs could read
 * them, so they are sampled every 50 ms (what a worker uses after its last sample is missed).
 */
async function withParallelWorkerCpu<T>(work: Promise<T>): Promise<[T, number]> {
  const { readFileSync } = await import('node:fs');
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  const seen = new Map<number, number>();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const pids = (await c.query(`SELECT pid FROM pg_stat_activity WHERE datname = '${DB}' AND backend_type = 'parallel worker'`)).rows;
      for (const { pid } of pids as { pid: number }[]) {
        try {
          const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          seen.set(pid, Number(f[11]) + Number(f[12]));
        } catch {
          // exited between the query and the read
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const result = await work;
    return [result, [...seen.values()].reduce((a, b) => a + b, 0) * 10];
  } finally {
    done = true;
    await sampler;
    await c.end();
  }
}
const nodeCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Round {
  createMs: number;
  createPgCpuMs: number;
  createNodeCpuMs: number;
  readPgCpuMs: number;
  readNodeCpuMs: number;
  readMs: number;
  chunks: number;
  rows: number;
  bytes: number;
  deleteMs: number;
}

async function round(
  s: Started,
  mode: 'default' | 'max' | 'create',
  caps: { rows: number; bytes: number; defaultRows: number },
): Promise<Round> {
  let pgCpu = await pgCpuMs();
  let nodeCpu = nodeCpuMs();
  let t = performance.now();
  const [session, workerCpuMs] = await withParallelWorkerCpu(call(`${s.baseUrl}/sync/snapshot-sessions`, { method: 'POST', body: '{}' }));
  const createMs = performance.now() - t;
  const createNodeCpuMs = nodeCpuMs() - nodeCpu;
  const createPgCpuMs = (await pgCpuMs()) - pgCpu + workerCpuMs;
  pgCpu = await pgCpuMs();
  nodeCpu = nodeCpuMs();
  t = performance.now();
  let chunks = 0;
  let rows = 0;
  let bytes = 0;
  const rowsPerChunk = mode === 'max' ? caps.rows : caps.defaultRows;
  const limits = mode === 'max' ? `&max_rows=${caps.rows}&max_bytes=${caps.bytes}` : '';
  // INFLIGHT > 1 asks for the next chunks before the previous ones arrive, as a pipelining client
  // would, assuming full chunks (next = after + rows); each answer is checked against that.
  const read = async (after: number) => {
    const c = await call(`${s.baseUrl}/sync/snapshot-sessions/${session.snapshot_id}?after_row_ordinal=${after}${limits}`);
    chunks++;
    rows += c.rows.length;
    bytes += c.byte_count;
    return c;
  };
  if (mode === 'create') {
    rows = session.row_count;
    bytes = session.byte_count;
  } else if (INFLIGHT === 1) {
    for (let after = 0; ;) {
      const c = await read(after);
      after = c.next_row_ordinal;
      if (!c.has_more) break;
    }
  } else {
    let next = 0;
    const worker = async () => {
      while (next < session.row_count) {
        const after = next;
        next += rowsPerChunk;
        const c = await read(after);
        if (c.next_row_ordinal !== Math.min(after + rowsPerChunk, session.row_count))
          throw new Error(`chunk after ${after} ended at ${c.next_row_ordinal}`);
      }
    };
    await Promise.all(Array.from({ length: INFLIGHT }, worker));
  }
  const readMs = performance.now() - t;
  const readNodeCpuMs = nodeCpuMs() - nodeCpu;
  const readPgCpuMs = (await pgCpuMs()) - pgCpu;
  // byte_count is absent when the create answered before its build ended (piecewise build).
  if (rows !== session.row_count || (session.byte_count !== undefined && bytes !== session.byte_count))
    throw new Error(`read ${rows} rows / ${bytes} B, session says ${session.row_count} / ${session.byte_count}`);
  t = performance.now();
  await call(`${s.baseUrl}/sync/snapshot-sessions/${session.snapshot_id}`, { method: 'DELETE' });
  return {
    createMs,
    createPgCpuMs,
    createNodeCpuMs,
    readPgCpuMs,
    readNodeCpuMs,
    readMs,
    chunks,
    rows,
    bytes,
    deleteMs: performance.now() - t,
  };
}

/** PROBE_EXPLAIN=1: auto_explain settings of the probe database (reset at the end). */
async function explainOn(): Promise<void> {
  if (process.env.PROBE_EXPLAIN !== '1') return;
  await adminQuery(`ALTER DATABASE "${DB}" SET session_preload_libraries = 'auto_explain'`);
  await adminQuery(`ALTER DATABASE "${DB}" SET auto_explain.log_min_duration = 200`);
  await adminQuery(`ALTER DATABASE "${DB}" SET auto_explain.log_analyze = on`);
  await adminQuery(`ALTER DATABASE "${DB}" SET auto_explain.log_buffers = on`);
  await adminQuery(`ALTER DATABASE "${DB}" SET auto_explain.log_nested_statements = on`);
  await adminQuery(`ALTER DATABASE "${DB}" SET log_min_duration_statement = 100`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sec = (ms: number) => (ms / 1000).toFixed(2);

async function main(): Promise<void> {
  const libs = await Promise.all(ROOTS.map(loadServer));
  if (!FRESH) await ensureSeeded(libs[0]!);
  await explainOn();
  try {
    console.log(
      `load: ${(await import('node:os'))
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; ${ROWS} rows; ${INFLIGHT} chunk request(s) in flight; roots: ${ROOTS.join(', ')}`,
    );
    const results = new Map<string, Round[]>();
    for (let i = 0; i < REPEAT; i++) {
      for (const [r, lib] of libs.entries()) {
        if (FRESH) {
          await createDatabase();
          await explainOn();
        }
        const s = await start(lib, PIECE_ROWS[r]);
        if (FRESH) await seed(s.server);
        try {
          const caps = await call(`${s.baseUrl}/sync/capabilities`);
          const lim = caps.bundle_limits ?? caps.limits ?? caps;
          for (const mode of MODES) {
            const res = await round(s, mode, {
              rows: lim.max_rows_per_snapshot_chunk,
              bytes: lim.max_bytes_per_snapshot_chunk,
              defaultRows: lim.default_rows_per_snapshot_chunk,
            });
            const key = `${r}:${path.basename(ROOTS[r]!)}${PIECE_ROWS[r] === undefined ? '' : `@${PIECE_ROWS[r]}`}:${mode}`;
            results.set(key, [...(results.get(key) ?? []), res]);
            console.log(
              `${key} round ${i + 1}: create ${sec(res.createMs)} s (cpu pg ${sec(res.createPgCpuMs)} node ${sec(res.createNodeCpuMs)}), ${res.chunks} chunks read in ${sec(res.readMs)} s (cpu pg ${sec(res.readPgCpuMs)} node ${sec(res.readNodeCpuMs)}), delete ${sec(res.deleteMs)} s (${res.rows} rows, ${res.bytes} B)`,
            );
          }
        } finally {
          await s.close();
        }
      }
    }
    console.log(
      `load: ${(await import('node:os'))
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    for (const [key, rs] of results) {
      const m = (f: (x: Round) => number) => sec(median(rs.map(f)));
      console.log(
        `median ${key}: create ${m((x) => x.createMs)} s (cpu pg ${m((x) => x.createPgCpuMs)} node ${m((x) => x.createNodeCpuMs)}), ` +
          `chunk reads ${m((x) => x.readMs)} s (cpu pg ${m((x) => x.readPgCpuMs)} node ${m((x) => x.readNodeCpuMs)}; ${rs[0]!.chunks} chunks), delete ${sec(median(rs.map((x) => x.deleteMs)))} s`,
      );
    }
  } finally {
    if (process.env.PROBE_EXPLAIN === '1') {
      for (const k of [
        'session_preload_libraries',
        'auto_explain.log_min_duration',
        'auto_explain.log_analyze',
        'auto_explain.log_buffers',
        'auto_explain.log_nested_statements',
        'log_min_duration_statement',
      ]) {
        await adminQuery(`ALTER DATABASE "${DB}" RESET ${k}`);
      }
    }
  }
}

await main();
