/**
 * Opens the SQLite database file: on OPFS through the `opfs-sahpool` VFS (one pool per database
 * name, so two databases can have two different owners), or in memory when the app asks for it.
 * A missing OPFS is a typed error, never a silent switch to an empty in-memory database.
 */
import type { Database, SAHPoolUtil, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { OversqliteError } from './errors.ts';
import { installWriteCoalescing } from './coalesced-writes.ts';
import { installQuotaErrorProbe } from './quota-check.ts';
import type { StorageKind } from './storage-kinds.ts';

/** An open SQLite connection plus what is needed to release its file. */
export interface OpenedStorage {
  /** The oo1 connection. */
  readonly db: Database;
  /** Where the data lives. */
  readonly storage: StorageKind;
  /** Closes the connection and releases the OPFS access handles so another worker can open the file. */
  close(): void;
}

/** How many pool slots to keep: db + journal/WAL files for each, with headroom. */
const POOL_MIN_CAPACITY = 8;

/** Turns an app database name into a safe VFS name and OPFS directory name. */
function vfsNameFor(databaseName: string): string {
  return `oversqlite-${databaseName.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

const pools = new Map<string, SAHPoolUtil>();

/**
 * Opens `name` in the chosen storage.
 * @throws OversqliteError `opfs_unavailable` when OPFS is asked for but missing; `database_locked`
 * when another worker still holds the file's access handles (retry once it is released).
 */
export async function openStorage(sqlite3: Sqlite3Static, name: string, storage: StorageKind): Promise<OpenedStorage> {
  return OPENERS[storage](sqlite3, name);
}

/** How each storage kind (storage-kinds.ts) opens a database: one opener per kind. */
const OPENERS: { readonly [K in StorageKind]: (sqlite3: Sqlite3Static, name: string) => Promise<OpenedStorage> } = {
  memory: async (sqlite3) => {
    const db = new sqlite3.oo1.DB(':memory:', 'c');
    return { db, storage: 'memory', close: () => db.close() };
  },
  opfs: openOpfs,
};

async function openOpfs(sqlite3: Sqlite3Static, name: string): Promise<OpenedStorage> {
  installQuotaErrorProbe();
  installWriteCoalescing(); // after the probe: the writes that reach the file pass through it
  const vfsName = vfsNameFor(name);
  let pool = pools.get(vfsName);
  try {
    if (pool === undefined) {
      // forceReinitIfPreviouslyFailed is honoured by 3.54 but missing from its .d.ts.
      const options = { name: vfsName, directory: `.${vfsName}`, preserveOnInitFailure: true, forceReinitIfPreviouslyFailed: true };
      pool = await sqlite3.installOpfsSAHPoolVfs(options as Parameters<Sqlite3Static['installOpfsSAHPoolVfs']>[0]);
      pools.set(vfsName, pool);
    } else if (pool.isPaused()) {
      await pool.unpauseVfs();
    }
    await pool.reserveMinimumCapacity(POOL_MIN_CAPACITY);
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (/NoModificationAllowed|Access Handles cannot be created/i.test(message)) {
      throw new OversqliteError(
        'database_locked',
        `The database file "${name}" is held by another worker (${message}). Wait for it to close, then retry.`,
      );
    }
    if (/Quota/i.test(message)) {
      throw new OversqliteError('storage_full', `Cannot reserve OPFS space for "${name}": ${message}`);
    }
    // Where the OPFS APIs are missing, sqlite-wasm's pool refuses to install (or, outside a
    // browser, does not exist): that is the usual cause.
    throw new OversqliteError(
      'opfs_unavailable',
      `Cannot open the OPFS pool for "${name}" (${message}): no OPFS sync access handles here (private browsing, an old browser, ` +
        "or not a dedicated worker). Open it with storage: 'memory' to run without persistence (the data will not be kept).",
    );
  }
  const opened = pool;
  const db = new opened.OpfsSAHPoolDb(`/${name}.sqlite3`);
  return {
    db,
    storage: 'opfs',
    close: () => {
      db.close();
      // Pausing releases the sync access handles at once, so a follower tab can take over
      // without waiting for this worker to be garbage-collected.
      opened.pauseVfs();
    },
  };
}
