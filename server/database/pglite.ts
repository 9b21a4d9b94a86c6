/**
 * `SqlDatabase` on PGlite (embedded PostgreSQL in wasm): the default when no `DATABASE_URL` is set.
 *
 * PGlite is one backend with one connection, so every unit of work (a single statement, a
 * `withConnection` callback, LISTEN/UNLISTEN) runs through one FIFO queue. Holding the connection
 * for a whole callback is what makes transactions and session-level advisory locks behave as they
 * do on a pooled `pg` connection: nobody else's statement can land inside someone's transaction.
 *
 * Values come back as `pg` returns them by default (int8 and numeric as strings, bytea as Buffer,
 * json/jsonb parsed), so the runtime sees the same types on both engines.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import type { QueryOptions, Results } from '@electric-sql/pglite';
import type { SqlDatabase, SqlQueryResult, SqlSession } from './types.ts';

/** Why a PGlite database call was refused. */
export type PgliteDatabaseErrorCode =
  /** The database was closed; no further statements run. */
  | 'database_closed'
  /**
   * `db.query`, `db.withConnection` or `db.listen` was called while the same async flow already
   * holds the only connection: on PGlite that would wait for itself forever.
   */
  | 'nested_connection'
  /** A `withConnection` callback returned with its transaction still open (it was rolled back). */
  | 'transaction_left_open'
  /** The LISTEN channel name cannot be used. */
  | 'invalid_channel'
  /** A `withConnection` session was used after its callback ended. */
  | 'session_released'
  /** Another live PGlite database (this process or another) has the data directory open. */
  | 'data_dir_in_use';

/** A refused PGlite database call. `code` says which rule was broken. */
export class PgliteDatabaseError extends Error {
  override readonly name = 'PgliteDatabaseError';
  constructor(
    readonly code: PgliteDatabaseErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Options for {@link createPgliteDatabase} when it creates the PGlite instance itself. */
export interface PgliteDatabaseOptions {
  /**
   * Where PGlite keeps its data files. Omitted: in memory (lost on close). A directory path
   * persists across restarts.
   */
  dataDir?: string;
  /**
   * A directory where a freshly initialized, empty cluster is kept as a tarball. New in-memory
   * databases then start from it instead of running initdb, which costs seconds of CPU each time
   * (test suites create many). The first in-memory creation writes it; a new, empty `dataDir` is
   * seeded from it too. Default: the `OVERSQLITE_PGLITE_TEMPLATE_DIR` environment variable; unset
   * means no template.
   */
  templateDir?: string;
}

const OID = {
  int8: 20,
  int8Array: 1016,
  numeric: 1700,
  numericArray: 1231,
  bytea: 17,
  byteaArray: 1001,
  date: 1082,
} as const;

const identity = (value: string): string => value;

/** Parses PostgreSQL's `\x…` hex text form of bytea into a Buffer, as `pg` does. */
function parseBytea(text: string): Buffer {
  return Buffer.from(text.slice(2), 'hex');
}

/** `pg` turns a `date` into a Date at local midnight (not UTC midnight as `new Date('YYYY-MM-DD')`). */
function parseDate(text: string): Date | string {
  const match = /^(\d{4,})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return text; // infinity, BC dates: `pg` leaves those alone as well (or as strings).
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (Number(match[1]) < 100) date.setFullYear(Number(match[1]));
  return date;
}

/**
 * Per-query parsers. They are passed on every call rather than at PGlite creation so that a host's
 * own PGlite instance (created with default parsers) gives the same types too. Array parsers are
 * listed explicitly because PGlite builds array parsers from the element parsers it had at init.
 */
const PG_COMPATIBLE_PARSERS: NonNullable<QueryOptions['parsers']> = {
  [OID.int8]: identity,
  [OID.int8Array]: (text) => pgliteTypes.arrayParser(text, identity, OID.int8Array),
  [OID.numeric]: identity,
  [OID.numericArray]: (text) => pgliteTypes.arrayParser(text, identity, OID.numericArray),
  [OID.bytea]: parseBytea,
  [OID.byteaArray]: (text) => pgliteTypes.arrayParser(text, parseBytea, OID.byteaArray),
  [OID.date]: parseDate,
};

const QUERY_OPTIONS: QueryOptions = { parsers: PG_COMPATIBLE_PARSERS };

/** `pg` sends `undefined` as NULL; PGlite would reject it. */
function normalizeParams(params: readonly unknown[]): unknown[] {
  return params.map((value) => (value === undefined ? null : value));
}

function toResult<R>(result: Results<R>): SqlQueryResult<R> {
  // PGlite reports 0 affected rows for SELECT; `pg` reports the number of rows returned.
  return { rows: result.rows, rowCount: Math.max(result.affectedRows ?? 0, result.rows.length) };
}

/**
 * Runs one statement. With parameters: the extended protocol (one statement). Without: the simple
 * protocol, which accepts several `;`-separated statements as `pg` does for parameterless text
 * (DDL scripts); the result is the last statement's.
 */
async function runStatement<R>(pglite: PGlite, text: string, params: readonly unknown[] | undefined): Promise<SqlQueryResult<R>> {
  if (params && params.length > 0) {
    return toResult(await pglite.query<R>(text, normalizeParams(params), QUERY_OPTIONS));
  }
  const results = await pglite.exec(text, QUERY_OPTIONS);
  const last = results[results.length - 1];
  return last ? toResult(last as Results<R>) : { rows: [], rowCount: 0 };
}

/** The installed PGlite version, so a template is never loaded by another PGlite/PostgreSQL build. */
async function pgliteVersion(): Promise<string> {
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const manifest = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version?: string };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * A new in-memory PGlite, from the template in `templateDir` when there is a usable one; otherwise
 * by initdb, saving the fresh cluster as the template (written aside and renamed, so concurrent
 * test processes never read a partial file).
 */
async function templateFile(templateDir: string): Promise<string> {
  return join(templateDir, `oversqlite-pglite-${await pgliteVersion()}-template.tar`);
}

async function createInMemoryPglite(templateDir: string | undefined): Promise<PGlite> {
  if (!templateDir) return PGlite.create();
  const file = await templateFile(templateDir);
  const template = await readFile(file).catch(() => null);
  if (template) {
    try {
      return await PGlite.create({ loadDataDir: new Blob([template as Uint8Array<ArrayBuffer>]) });
    } catch {
      // An unreadable template (e.g. truncated by a crash): fall through and rebuild it.
    }
  }
  const pglite = await PGlite.create();
  const dump = await pglite.dumpDataDir('none');
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  try {
    await mkdir(templateDir, { recursive: true });
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
    await rename(partial, file);
  } catch {
    // Only a cache: a read-only or missing directory just means the next start runs initdb again.
    await rm(partial, { force: true });
  }
  return pglite;
}

/**
 * PGlite on `dataDir` (already locked). A directory without a cluster yet is seeded from the
 * template when there is one (instead of initdb); templates are only ever written from in-memory
 * clusters, so they never carry a data directory's lock file.
 */
async function createOnDataDir(dataDir: string, templateDir: string | undefined): Promise<PGlite> {
  const hasCluster = await stat(join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  const template = !hasCluster && templateDir ? await readFile(await templateFile(templateDir)).catch(() => null) : null;
  if (template) {
    try {
      return await PGlite.create({ dataDir, loadDataDir: new Blob([template as Uint8Array<ArrayBuffer>]) });
    } catch {
      // A template that does not load: clear what it left (keeping our lock) and run initdb.
      const entries = await readdir(dataDir);
      await Promise.all(
        entries.filter((name) => name !== 'oversqlite.lock').map((name) => rm(join(dataDir, name), { recursive: true, force: true })),
      );
    }
  }
  return PGlite.create({ dataDir });
}

/** True when process `pid` exists (signal 0 only checks). */
function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims `dataDir` for this process: PGlite itself does not stop a second instance from opening the
 * same files, and two would silently corrupt each other. The lock file holds the owner's pid; one
 * left behind by a process that is gone is taken over. Resolves with the release function.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'oversqlite.lock');
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(owner) && owner > 0 && processIsAlive(owner)) {
      throw new PgliteDatabaseError(
        'data_dir_in_use',
        `PGlite data directory ${dataDir} is already open (process ${owner}). Stop that server or use another directory (PGLITE_DIR).`,
      );
    }
    await rm(file, { force: true }); // stale: its owner exited without closing
  }
}

/** One place in the queue: who holds the connection, and whether they still do. */
interface ConnectionHold {
  active: boolean;
}

/**
 * Creates a `SqlDatabase` on PGlite.
 *
 * - `createPgliteDatabase()`: a new in-memory database.
 * - `createPgliteDatabase({ dataDir })`: a new instance on a data directory (created if missing),
 *   locked for this database until `close()` (a second opener gets `data_dir_in_use`).
 * - `createPgliteDatabase({ templateDir })`: a new in-memory database started from a cached empty
 *   cluster (see {@link PgliteDatabaseOptions.templateDir}).
 * - `createPgliteDatabase(pglite)`: wraps the host's instance; `close()` leaves it open.
 *
 * Do not run statements on a wrapped instance outside this object: they would bypass the queue and
 * could land inside a transaction held by `withConnection`.
 */
export async function createPgliteDatabase(source?: PgliteDatabaseOptions | PGlite): Promise<SqlDatabase> {
  const owned = !(source instanceof PGlite);
  let releaseDataDir = async (): Promise<void> => undefined;
  let pglite: PGlite;
  if (source instanceof PGlite) {
    pglite = source;
  } else if (source?.dataDir) {
    releaseDataDir = await lockDataDir(source.dataDir);
    try {
      pglite = await createOnDataDir(source.dataDir, source.templateDir ?? process.env.OVERSQLITE_PGLITE_TEMPLATE_DIR);
    } catch (err) {
      await releaseDataDir();
      throw err;
    }
  } else {
    pglite = await createInMemoryPglite(source?.templateDir ?? process.env.OVERSQLITE_PGLITE_TEMPLATE_DIR);
  }
  await pglite.waitReady;

  const holder = new AsyncLocalStorage<ConnectionHold>();
  let tail: Promise<void> = Promise.resolve();
  let closed = false;

  /** Runs `fn` when every earlier unit of work is done; the connection is exclusively its own. */
  function exclusive<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (closed) {
      return Promise.reject(new PgliteDatabaseError('database_closed', `PGlite database is closed; cannot run ${operation}.`));
    }
    if (holder.getStore()?.active) {
      return Promise.reject(
        new PgliteDatabaseError(
          'nested_connection',
          `${operation} was called inside withConnection: PGlite has a single connection, so this would deadlock. ` +
            'Use the session passed to the withConnection callback instead.',
        ),
      );
    }
    const hold: ConnectionHold = { active: true };
    const run = tail.then(() => holder.run(hold, fn));
    tail = run.then(
      () => {
        hold.active = false;
      },
      () => {
        hold.active = false;
      },
    );
    return run;
  }

  /**
   * The session of the current holder. A session kept beyond its callback would run statements
   * outside the queue, inside whoever holds the connection next: refuse that.
   */
  const session: SqlSession = {
    query<R>(text: string, params?: readonly unknown[]) {
      if (!holder.getStore()?.active) {
        return Promise.reject(
          new PgliteDatabaseError(
            'session_released',
            'This session belongs to a withConnection callback that has ended; use db.query or a new withConnection.',
          ),
        );
      }
      return runStatement<R>(pglite, text, params);
    },
  };

  /** A transaction left open must not leak into the next holder of the one connection. */
  async function rollbackIfOpen(): Promise<boolean> {
    if (!pglite.isInTransaction()) return false;
    await pglite.exec('ROLLBACK');
    return true;
  }

  const database: SqlDatabase = {
    kind: 'pglite',

    query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]) {
      return exclusive('query', () => runStatement<R>(pglite, text, params));
    },

    withConnection<T>(fn: (session: SqlSession) => Promise<T>) {
      return exclusive('withConnection', async () => {
        let result: T;
        try {
          result = await fn(session);
        } catch (err) {
          await rollbackIfOpen();
          throw err;
        }
        if (await rollbackIfOpen()) {
          throw new PgliteDatabaseError(
            'transaction_left_open',
            'A withConnection callback returned inside an open transaction; it was rolled back. End it with COMMIT or ROLLBACK.',
          );
        }
        return result;
      });
    },

    async listen(channel: string, onNotify: (payload: string) => void) {
      if (channel.length === 0 || Buffer.byteLength(channel) > 63 || /["\0]/.test(channel)) {
        throw new PgliteDatabaseError(
          'invalid_channel',
          `LISTEN channel ${JSON.stringify(channel)} must be 1–63 bytes without double quotes or NUL.`,
        );
      }
      // Notifications arrive while some other unit of work's statement is being processed; run the
      // subscriber outside that work's async context (so it may itself use the database) and after
      // PGlite has finished parsing the response.
      const deliver = (payload: string): void => {
        holder.exit(() =>
          setImmediate(() => {
            onNotify(payload);
          }),
        );
      };
      const quoted = `"${channel}"`;
      const unlisten = await exclusive('listen', () => pglite.listen(quoted, deliver));
      let stopped = false;
      return async () => {
        if (stopped || closed) return;
        stopped = true;
        await exclusive('unlisten', () => unlisten());
      };
    },

    async close() {
      if (closed) return;
      // Let queued work finish, then refuse new work.
      const drained = tail;
      closed = true;
      await drained;
      if (owned) await pglite.close();
      await releaseDataDir();
    },
  };
  return database;
}
