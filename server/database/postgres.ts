/**
 * `SqlDatabase` on a real PostgreSQL through a `pg` connection pool.
 *
 * Types stay as `pg` returns them by default (int8/numeric as strings, json/jsonb parsed), as the
 * interface in `types.ts` promises.
 */
import pg from 'pg';
import type { SqlDatabase, SqlQueryResult, SqlSession } from './types.ts';

/** How to reach PostgreSQL: a connection string (the database owns its pool) or a host's pool. */
export type PostgresDatabaseOptions =
  | { connectionString: string; maxConnections?: number }
  | { pool: pg.Pool };

function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** Creates a `SqlDatabase` over a `pg` pool. A pool passed in by the host is not closed by `close()`. */
export function createPostgresDatabase(options: PostgresDatabaseOptions): SqlDatabase {
  const ownsPool = !('pool' in options);
  const pool =
    'pool' in options
      ? options.pool
      : new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
  const connectionConfig = ownsPool ? { connectionString: (options as { connectionString: string }).connectionString } : pool.options;
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const listeners = new Set<pg.Client>();

  async function query<R>(text: string, params?: readonly unknown[]): Promise<SqlQueryResult<R>> {
    const r = await pool.query(text, params as unknown[] | undefined);
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
  }

  return {
    kind: 'postgres',
    query,
    async withConnection<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        const session: SqlSession = {
          async query<R>(text: string, params?: readonly unknown[]) {
            try {
              const r = await client.query(text, params as unknown[] | undefined);
              return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
            } catch (err) {
              // A connection-level failure (not an SQL error) must not return the client to the pool.
              if (!(err as { code?: string }).code) broken = err as Error;
              throw err;
            }
          },
        };
        return await fn(session);
      } finally {
        client.release(broken);
      }
    },
    async listen(channel, onNotify, onError) {
      const client = new pg.Client(connectionConfig);
      client.on('notification', (msg) => {
        if (msg.channel === channel) onNotify(msg.payload ?? '');
      });
      let stopped = false;
      let reported = false;
      // 'error' and 'end' both follow a lost connection: report it once.
      const lost = (err: Error) => {
        listeners.delete(client);
        if (stopped || reported) return;
        reported = true;
        onError?.(err);
      };
      client.on('error', lost);
      client.on('end', () => lost(new Error('LISTEN connection ended')));
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(channel)}`);
      listeners.add(client);
      return async () => {
        stopped = true;
        listeners.delete(client);
        await client.end().catch(() => {});
      };
    },
    async close() {
      for (const c of [...listeners]) await c.end().catch(() => {});
      listeners.clear();
      if (ownsPool) await pool.end();
    },
  };
}
