/**
 * The storage kinds, one descriptor each: everything the tab and the worker decide by the kind of
 * storage reads it from here (no `storage === 'opfs'` branches elsewhere). A new kind is one entry
 * here plus its opener in `storage-open.ts` (a mapped type there asks for it). Plain data without
 * imports: the main thread loads it too.
 */

/** What a storage kind means for the rest of the code. */
export interface StorageDescriptor {
  /**
   * The data outlives its worker: a new worker (after a crash, or in the next leader tab) opens
   * the same data. When false, the data dies with the worker and is never silently replaced by a
   * blank database.
   */
  readonly durable: boolean;
  /**
   * One database shared by all tabs of the origin: tabs elect a leader with Web Locks and talk
   * over a BroadcastChannel, and a call safe to repeat moves to the next leader when the worker
   * ends. When false, the database is private to the tab that opened it.
   */
  readonly sharedAcrossTabs: boolean;
  /** The browser's persistent-storage grant applies (requested on open, reported in the status). */
  readonly persistable: boolean;
  /** Pragmas run on the connection right after it opens. */
  readonly pragmas: readonly string[];
}

/** Every storage kind, by name. */
export const STORAGE_KINDS = {
  /** The origin private file system (durable, shared by the tabs of the origin; the default in browsers). */
  opfs: {
    durable: true,
    sharedAcrossTabs: true,
    persistable: true,
    // Chosen from the commit-cost matrix in docs/toolchain.md with durability first: WAL with an
    // exclusive lock (no shared-memory index, which sahpool cannot provide) commits in about
    // 0.6 ms versus 1.4 ms for the rollback journal, and synchronous=FULL keeps each commit
    // durable. The exclusive lock costs nothing: only this worker may touch the file anyway.
    pragmas: ['PRAGMA locking_mode = EXCLUSIVE', 'PRAGMA journal_mode = WAL', 'PRAGMA synchronous = FULL'],
  },
  /** In memory: not durable and private to the tab (chosen explicitly where OPFS is unavailable). */
  memory: { durable: false, sharedAcrossTabs: false, persistable: false, pragmas: [] },
} as const satisfies Record<string, StorageDescriptor>;

/** Where the database lives. */
export type StorageKind = keyof typeof STORAGE_KINDS;

/** The kind `openDatabase` uses when the app names none. */
export const DEFAULT_STORAGE_KIND: StorageKind = 'opfs';

/** The descriptor of `kind`. */
export function storageDescriptor(kind: StorageKind): StorageDescriptor {
  return STORAGE_KINDS[kind];
}

/** True when `value` names a storage kind. */
export function isStorageKind(value: unknown): value is StorageKind {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(STORAGE_KINDS, value);
}

/** The message for a storage option that names no kind, e.g. "storage must be 'opfs' or 'memory'.". */
export function unknownStorageMessage(): string {
  return `storage must be ${Object.keys(STORAGE_KINDS)
    .map((k) => `'${k}'`)
    .join(' or ')}.`;
}
