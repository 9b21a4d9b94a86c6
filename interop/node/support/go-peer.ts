/**
 * go-oversync's own example server (commit 1f1118f, `examples/nethttp_server`) as a real peer for
 * our engine running in Node: built from the shared source by `interop/go-build.mjs` (our
 * `interop/go-server` main imports the example's `server.SetupServer`), started on a free port
 * against a fresh PostgreSQL database, and devices (engines over in-memory sqlite-wasm) that sync
 * through it. PostgreSQL is read directly to check convergence.
 *
 * Without go-oversync (or Go) the lane skips with the instruction; under CI=true that is a failure.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { Database } from '@sqlite.org/sqlite-wasm';
import { SyncEngine } from '../../../worker/engine/index.ts';
import type { SyncEngineOptions, SyncedTable } from '../../../worker/engine/index.ts';
import { memoryDb } from '../../../test/engine/support/sqlite.ts';

interface PeerLocationModule {
  locatePeer(env?: NodeJS.ProcessEnv): { path: string } | { path: null; reason: string };
  PEER_INSTRUCTION: string;
}
interface GoBuildModule {
  hasGo(): boolean;
  buildGoProgram(o: { folder: string; peerPath: string; log?: (line: string) => void }): { binary: string; cached: boolean; ms: number };
}

// The interop scripts are plain ESM (.mjs, run by node directly); imported by URL so the type
// checker does not need declarations for them.
const peerLocation = (await import(new URL('../../peer-location.mjs', import.meta.url).href)) as PeerLocationModule;
const goBuild = (await import(new URL('../../go-build.mjs', import.meta.url).href)) as GoBuildModule;

const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const ADMIN_URL = process.env.OVERSQLITE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Where the peer is, or why the lane cannot run (null path). Throws under CI=true when absent. */
export function peerAvailability(): { peerPath: string | null; reason: string } {
  const found = peerLocation.locatePeer();
  let reason = '';
  if (found.path === null) reason = 'reason' in found ? found.reason : 'go-oversync not found';
  else if (!goBuild.hasGo()) reason = 'Go is not installed (go-oversync is built from source; cgo needs a C compiler too)';
  if (!reason) return { peerPath: found.path, reason: '' };
  const message = `go-oversync interop lane: ${reason}; to run it: ${peerLocation.PEER_INSTRUCTION}`;
  if (IN_CI) throw new Error(`${message} (CI=true: the lane may not be skipped)`);
  console.log(`SKIPPED — ${message}`);
  return { peerPath: null, reason };
}

/** The local SQLite schema our app uses against the example's 8 tables (no `_sync_scope_id`). */
export const LOCAL_SCHEMA = `
CREATE TABLE users (
  id BLOB PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  created_at TEXT,
  updated_at TEXT
);
CREATE TABLE posts (
  id BLOB PRIMARY KEY NOT NULL,
  title TEXT NOT NULL,
  content TEXT NOT NULL,
  author_id BLOB REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
  created_at TEXT,
  updated_at TEXT
);
CREATE TABLE categories (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  parent_id TEXT REFERENCES categories(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE teams (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  captain_member_id TEXT REFERENCES team_members(id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE team_members (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE files (
  id BLOB PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE file_reviews (
  id BLOB PRIMARY KEY NOT NULL,
  review TEXT NOT NULL,
  file_id BLOB NOT NULL REFERENCES files(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE typed_rows (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  note TEXT,
  count_value INTEGER,
  enabled_flag INTEGER NOT NULL,
  rating REAL,
  data BLOB,
  created_at TEXT
);`;

export const LOCAL_TABLES: SyncedTable[] = [
  { table: 'users', syncKey: 'id', columns: { created_at: 'timestamp', updated_at: 'timestamp' } },
  { table: 'posts', syncKey: 'id', columns: { created_at: 'timestamp', updated_at: 'timestamp' } },
  { table: 'categories', syncKey: 'id' },
  { table: 'teams', syncKey: 'id' },
  { table: 'team_members', syncKey: 'id' },
  { table: 'files', syncKey: 'id' },
  { table: 'file_reviews', syncKey: 'id' },
  { table: 'typed_rows', syncKey: 'id', columns: { created_at: 'timestamp' } },
];

/** A device: our engine over its own in-memory SQLite, syncing through the Go server. */
export interface Device {
  engine: SyncEngine;
  db: Database;
  /** Paths of every request this device made (method + path), in order. */
  requests: string[];
  /** A new engine over the same database (an app restart). */
  reopen(overrides?: Partial<SyncEngineOptions>): Promise<SyncEngine>;
}

/** The running example server with its database. */
export interface GoPeer {
  baseUrl: string;
  /** Direct access to the example server's PostgreSQL database. */
  pg: pg.Pool;
  /** A JWT for `user` from the example's `/dummy-signin`. */
  token(user: string): Promise<string>;
  device(user: string, overrides?: Partial<SyncEngineOptions>): Promise<Device>;
  /** Rows of a business table for one user, scope column dropped, ordered by id. */
  pgRows(table: string, user: string, columns?: string): Promise<Record<string, unknown>[]>;
  /**
   * Pushes rows as another client would (raw HTTP, its own source id, values exactly as given),
   * e.g. BIGINTs as JSON strings, which go-oversync stores exactly in PostgreSQL.
   */
  rawPush(user: string, sourceId: string, sourceBundleId: number, rows: unknown[]): Promise<{ bundle_seq: number }>;
  /** Server log lines (stderr), for failure messages. */
  log(): string;
  close(): Promise<void>;
}

function waitForListening(child: ChildProcess, stderr: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`go-server exited before listening (code ${code}, signal ${signal}):\n${stderr.join('').slice(-4000)}`));
    child.once('exit', onExit);
    child.once('error', reject);
    lines.on('line', (line) => {
      const m = /^LISTENING (\S+)$/.exec(line.trim());
      if (!m) return;
      child.off('exit', onExit);
      resolve(m[1]!);
    });
  });
}

/** Builds (cached) and starts go-oversync's example server on a fresh database. */
export async function startGoPeer(peerPath: string): Promise<GoPeer> {
  const { binary } = goBuild.buildGoProgram({ folder: 'go-server', peerPath, log: (l) => console.log(l) });
  const dbName = `oversqlite_goex_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  url.searchParams.set('sslmode', 'disable');
  const secret = randomBytes(16).toString('hex');
  const stderr: string[] = [];
  const child = spawn(binary, ['-addr', '127.0.0.1:0', '-db', url.toString(), '-secret', secret], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let addr: string;
  try {
    addr = await waitForListening(child, stderr);
  } catch (e) {
    await dropDatabase(dbName);
    throw e;
  }
  const baseUrl = `http://${addr}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  const engines: SyncEngine[] = [];

  const token = async (user: string): Promise<string> => {
    const res = await fetch(`${baseUrl}/dummy-signin`, { method: 'POST', body: JSON.stringify({ user, password: 'x' }) });
    if (!res.ok) throw new Error(`dummy-signin ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };

  return {
    baseUrl,
    pg: pool,
    token,
    async device(user, overrides = {}) {
      const { sqlite3, db } = await memoryDb(LOCAL_SCHEMA);
      const requests: string[] = [];
      const counting: typeof fetch = (input, init) => {
        requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
        return fetch(input, init);
      };
      const options: SyncEngineOptions = {
        sqlite3,
        db,
        remoteSchema: 'business',
        tables: LOCAL_TABLES,
        serverUrl: baseUrl,
        getToken: () => token(user),
        fetch: counting,
        ...overrides,
      };
      const engine = await SyncEngine.open(options);
      engines.push(engine);
      return {
        engine,
        db,
        requests,
        reopen: async (o = {}) => {
          const e = await SyncEngine.open({ ...options, ...o });
          engines.push(e);
          return e;
        },
      };
    },
    async pgRows(table, user, columns = '*') {
      const res = await pool.query(`SELECT ${columns} FROM business.${table} WHERE _sync_scope_id = $1 ORDER BY id`, [user]);
      return (res.rows as Record<string, unknown>[]).map(({ _sync_scope_id, ...rest }) => rest);
    },
    async rawPush(user, sourceId, sourceBundleId, rows) {
      const headers = { Authorization: `Bearer ${await token(user)}`, 'Oversync-Source-ID': sourceId, 'Content-Type': 'application/json' };
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        const text = await res.text();
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
        return JSON.parse(text) as Record<string, unknown>;
      };
      await call('POST', '/sync/connect', { has_local_pending_rows: false });
      const created = await call('POST', '/sync/push-sessions', { source_bundle_id: sourceBundleId, planned_row_count: rows.length });
      await call('POST', `/sync/push-sessions/${String(created.push_id)}/chunks`, { start_row_ordinal: 0, rows });
      return (await call('POST', `/sync/push-sessions/${String(created.push_id)}/commit`)) as { bundle_seq: number };
    },
    log: () => stderr.join(''),
    async close() {
      await Promise.all(engines.map((e) => e.close().catch(() => {})));
      await pool.end();
      child.kill('SIGTERM');
      await exited;
      await dropDatabase(dbName);
    },
  };
}

async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Local rows of a table as plain objects, ordered by key. */
export function localRows(db: Database, table: string, columns = '*'): Record<string, unknown>[] {
  return db.exec({ sql: `SELECT ${columns} FROM ${table} ORDER BY id`, rowMode: 'object', returnValue: 'resultRows' }).map((r) => ({ ...(r as object) }));
}

/** `PRAGMA foreign_key_check` violations of a local database. */
export function foreignKeyViolations(db: Database): number {
  return db.exec({ sql: 'PRAGMA foreign_key_check', rowMode: 'array', returnValue: 'resultRows' }).length;
}

/** A canonical UUID with `n` in its last group. */
export const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** The SQL literal of a UUID as a 16-byte BLOB (`x'…'`). */
export const blobUuid = (n: number): string => `x'${uuid(n).replace(/-/g, '')}'`;
