/**
 * `SqlDatabase` on a real PostgreSQL through a `pg` connection pool.
 *
 * Types stay as `pg` returns them by default (int8/numeric as strings, json/jsonb parsed), as the
 * interface in `types.ts` promises.
 */
import { createHash } from 'node:crypto';
import { quoteIdent } from './sql-identifiers.ts';
import pg from 'pg';
import { isConnectionFault } from './connection-faults.ts';
import type { SqlDatabase, SqlQueryResult, SqlSession } from './types.ts';

/** How to reach PostgreSQL: a connection string (the database owns its pool) or a host's pool. */
export type PostgresDatabaseOptions =
  | {
      connectionString: string;
      maxConnections?: number;
      /** Longest wait for a pooled connection, queueing included (default 30 s). */
      connectTimeoutMs?: number;
      /**
       * Run parameterized statements as named prepared statements, cached per connection (default
       * true). Set false behind a pooler that cannot keep them (PgBouncer before 1.21 in
       * transaction mode). A host's own pool (`{ pool }`) never gets them.
       */
      preparedStatements?: boolean;
    }
  | { pool: pg.Pool };

/**
 * Prepared statements kept per connection. Parsing and planning a statement again on every call
 * was ~40% of PostgreSQL's CPU for a small sync (bench/probes/fleet-vs-go.ts: 5.4–7.1 → 2.9–3.7 ms
 * per sync with 50 devices; go-oversync's pgx caches statements the same way). Texts beyond this
 * many on one connection (e.g. the per-snapshot-session tables' statements) run unnamed, so a
 * connection's server-side memory stays bounded.
 */
const PREPARED_PER_CONNECTION = 100;

/**
 * Names of the texts seen so far (a SHA-1 per call was ~2% of a loaded server's time). Bounded:
 * the per-snapshot-session texts are new each time; past the bound the map starts over.
 */
const statementNames = new Map<string, string>();
const STATEMENT_NAMES_KEPT = 1_000;

/** Statement name of a text: stable across connections and processes, under PostgreSQL's 63 bytes. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `oversync_${createHash('sha1').update(text).digest('hex')}`;
    if (statementNames.size >= STATEMENT_NAMES_KEPT) statementNames.clear();
    statementNames.set(text, name);
  }
  return name;
}

/** Creates a `SqlDatabase` over a `pg` pool. A pool passed in by the host is not closed by `close()`. */
export function createPostgresDatabase(options: PostgresDatabaseOptions): SqlDatabase {
  const ownsPool = !('pool' in options);
  const pool =
    'pool' in options
      ? options.pool
      : new pg.Pool({
          connectionString: options.connectionString,
          max: options.maxConnections ?? 10,
          // A peer that vanishes without a FIN/RST (failover, network partition) is detected by TCP
          // keepalive instead of holding the request forever; a database that accepts no
          // connection fails the checkout instead of queueing requests without bound.
          keepAlive: true,
          connectionTimeoutMillis: options.connectTimeoutMs ?? 30_000,
          // Idle connections stay 5 minutes (pg's default is 10 s): a new connection starts with a
          // cold backend and none of its prepared statements, so every burst of syncs after a
          // pause of 10 s would pay that again.
          idleTimeoutMillis: 300_000,
        });
  const connectionConfig = ownsPool ? { connectionString: (options as { connectionString: string }).connectionString } : pool.options;
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const listeners = new Set<pg.Client>();
  const prepare = ownsPool && (options as { preparedStatements?: boolean }).preparedStatements !== false;
  /** Names prepared (or being prepared) on each pooled connection. */
  const preparedOn = new WeakMap<pg.PoolClient, Set<string>>();

  async function query<R>(text: string, params?: readonly unknown[]): Promise<SqlQueryResult<R>> {
    const answer: pg.QueryResult | pg.QueryResult[] = await pool.query(text, params as unknown[] | undefined);
    const r = Array.isArray(answer) ? answer[answer.length - 1]! : answer;
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
  }

  return {
    kind: 'postgres',
    query,
    async withConnection<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // pg-pool drops its own 'error' listener while a client is checked out, and `pg` emits
      // 'error' when the backend goes away (admin kill, restart, failover) even between queries:
      // without a listener that event kills the process. It marks the client broken instead, so
      // the pool discards it; the query in flight (or the next one) fails and the request is
      // answered as a retryable database fault.
      const onError = (err: Error) => {
        broken ??= err;
      };
      client.on('error', onError);
      try {
        const session: SqlSession = {
          async query<R>(text: string, params?: readonly unknown[]) {
            if (broken) throw broken;
            try {
              const values = params as unknown[] | undefined;
              let name: string | undefined;
              if (prepare && values?.length) {
                let names = preparedOn.get(client);
                if (!names) preparedOn.set(client, (names = new Set()));
                const candidate = statementName(text);
                if (names.has(candidate) || names.size < PREPARED_PER_CONNECTION) {
                  names.add(candidate);
                  name = candidate;
                }
              }
              const answer: pg.QueryResult | pg.QueryResult[] = name
                ? await client.query({ name, text, values })
                : await client.query(text, values);
              // A parameterless multi-statement script answers one result per statement: the last counts.
              const r = Array.isArray(answer) ? answer[answer.length - 1]! : answer;
              return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
            } catch (err) {
              // A connection-level failure (not an SQL error) must not return the client to the pool.
              if (!(err as { code?: string }).code || isConnectionFault(err)) broken ??= err as Error;
              throw err;
            }
          },
        };
        return await fn(session);
      } catch (err) {
        // As PGlite's adapter does: a callback that failed inside its transaction (a statement of
        // a BEGIN script, a ROLLBACK that was itself cancelled) must not hand the pool a connection
        // still in it, where every later statement would fail. Rolled back here (outside a
        // transaction PostgreSQL only warns), else discarded. Always, not by
        // getTransactionStatus(): pg rejects a failed statement on its ErrorResponse, before the
        // ReadyForQuery that updates that status has arrived.
        if (!broken) {
          await client.query('ROLLBACK').catch((rollbackErr: Error) => {
            broken ??= rollbackErr;
          });
        }
        throw err;
      } finally {
        client.release(broken);
        // After release the pool's idle listener is back; ours stays attached to a discarded
        // client only, where a late 'error' must still be swallowed.
        if (!broken) client.removeListener('error', onError);
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
      try {
        await client.connect();
        await client.query(`LISTEN ${quoteIdent(channel)}`);
      } catch (err) {
        // The caller retries; this half-open client must not linger (nor report twice).
        stopped = true;
        await client.end().catch(() => {});
        throw err;
      }
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
