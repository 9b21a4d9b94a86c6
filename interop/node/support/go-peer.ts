/**
 * Devices for the Node lane: our engine (in-memory sqlite-wasm) syncing through go-oversync's
 * example server (`go-server-process.ts`), plus direct reads of the server's PostgreSQL to check
 * convergence. Without go-oversync (or Go) the lane skips with the instruction; under CI=true
 * that is a failure.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import { SyncEngine } from '../../../worker/engine/index.ts';
import type { SyncEngineOptions } from '../../../worker/engine/index.ts';
import { LOCAL_SCHEMA, LOCAL_TABLES } from './example-schema.ts';
import { memoryDb } from '../../../test/engine/support/sqlite.ts';
import { startGoServer } from './go-server-process.ts';
import type { GoServer } from './go-server-process.ts';

export { peerAvailability } from './go-server-process.ts';

/** A device: our engine over its own in-memory SQLite, syncing through the Go server. */
export interface Device {
  engine: SyncEngine;
  db: Database;
  /** Paths of every request this device made (method + path), in order. */
  requests: string[];
  /** A new engine over the same database (an app restart). */
  reopen(overrides?: Partial<SyncEngineOptions>): Promise<SyncEngine>;
}

/** The running example server with devices and direct PostgreSQL reads. */
export interface GoPeer extends GoServer {
  device(user: string, overrides?: Partial<SyncEngineOptions>): Promise<Device>;
  /** Rows of a business table for one user, scope column dropped, ordered by id. */
  pgRows(table: string, user: string, columns?: string): Promise<Record<string, unknown>[]>;
  /**
   * Pushes rows as another client would (raw HTTP, its own source id, values exactly as given),
   * e.g. BIGINTs as JSON strings, which go-oversync stores exactly in PostgreSQL.
   */
  rawPush(user: string, sourceId: string, sourceBundleId: number, rows: unknown[]): Promise<{ bundle_seq: number }>;
}

/** Builds (cached) and starts go-oversync's example server on a fresh database. */
export async function startGoPeer(peerPath: string): Promise<GoPeer> {
  const server = await startGoServer(peerPath);
  const engines: SyncEngine[] = [];
  return {
    ...server,
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
        serverUrl: server.baseUrl,
        getToken: () => server.token(user),
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
      const res = await server.pg.query(`SELECT ${columns} FROM business.${table} WHERE _sync_scope_id = $1 ORDER BY id`, [user]);
      return (res.rows as Record<string, unknown>[]).map(({ _sync_scope_id, ...rest }) => rest);
    },
    async rawPush(user, sourceId, sourceBundleId, rows) {
      const headers = {
        Authorization: `Bearer ${await server.token(user)}`,
        'Oversync-Source-ID': sourceId,
        'Content-Type': 'application/json',
      };
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${server.baseUrl}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
        return JSON.parse(text) as Record<string, unknown>;
      };
      await call('POST', '/sync/connect', { has_local_pending_rows: false });
      const created = await call('POST', '/sync/push-sessions', { source_bundle_id: sourceBundleId, planned_row_count: rows.length });
      await call('POST', `/sync/push-sessions/${String(created.push_id)}/chunks`, { start_row_ordinal: 0, rows });
      return (await call('POST', `/sync/push-sessions/${String(created.push_id)}/commit`)) as { bundle_seq: number };
    },
    async close() {
      await Promise.all(engines.map((e) => e.close().catch(() => {})));
      await server.close();
    },
  };
}

/** Local rows of a table as plain objects, ordered by key. */
export function localRows(db: Database, table: string, columns = '*'): Record<string, unknown>[] {
  return db
    .exec({ sql: `SELECT ${columns} FROM ${table} ORDER BY id`, rowMode: 'object', returnValue: 'resultRows' })
    .map((r) => ({ ...(r as object) }));
}

/** `PRAGMA foreign_key_check` violations of a local database. */
export function foreignKeyViolations(db: Database): number {
  return db.exec({ sql: 'PRAGMA foreign_key_check', rowMode: 'array', returnValue: 'resultRows' }).length;
}

/** A canonical UUID with `n` in its last group. */
export const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** The SQL literal of a UUID as a 16-byte BLOB (`x'…'`). */
export const blobUuid = (n: number): string => `x'${uuid(n).replace(/-/g, '')}'`;
