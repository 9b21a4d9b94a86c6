/**
 * `openDatabase()`: the one call an app makes to get a {@link Database}.
 */
import type { AppSchema } from '../worker/database/types.ts';
import type { StorageKind } from '../worker/database/storage-kinds.ts';
import { DEFAULT_STORAGE_KIND, isStorageKind, storageDescriptor, unknownStorageMessage } from '../worker/database/storage-kinds.ts';
import type { AppSyncOptions, ConflictContext, ConflictResolver, SyncEvent } from '../worker/engine/types.ts';
import { DEFAULT_CONFLICT_STRATEGY } from '../worker/engine/conflict-strategies.ts';
import { isCallbackTimeout, MAX_CALLBACK_TIMEOUT_MS } from '../worker/engine/callback-deadline.ts';
import { OversqliteError } from '../worker/database/errors.ts';
import { Database } from './database.ts';
import { watchForeground } from './foreground-sync.ts';
import { requestPersistentStorage } from './storage-status.ts';
import { SyncHandle } from './sync-handle.ts';
import { TabCoordinator } from './tab-coordinator.ts';
import { defaultWorkerFactory } from './worker-backend.ts';
import type { WorkerFactory } from './worker-backend.ts';

/**
 * Sync configuration: which server, which tables, how to authenticate, and how sync behaves. The
 * options are the engine's (`SyncEngineOptions`); `getToken` runs in the leader tab.
 */
export interface SyncOptions extends AppSyncOptions {}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Database name: one file and one leader tab per name. */
  readonly name: string;
  /** The app schema (version + forward migrations). */
  readonly schema: AppSchema;
  /**
   * `'opfs'` (default): durable, shared by all tabs of the origin. `'memory'`: not durable and
   * private to this tab; choose it explicitly where OPFS is unavailable (the default fails with
   * `opfs_unavailable` there rather than silently losing data).
   */
  readonly storage?: StorageKind;
  /** Sync with an oversync server. */
  readonly sync?: SyncOptions;
  /** How long a call from a follower tab waits for the leader tab. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /**
   * How long an interactive transaction (`db.transaction(async (tx) => ...)`, the ORMs'
   * `transaction()`) may go without a statement before the leader rolls it back, taking its
   * caller to be gone (tab closed, exception lost). Default 30 s; at most 10 minutes.
   */
  readonly transactionLeaseMs?: number;
  /** Ask the browser for persistent storage (default true for OPFS). */
  readonly requestPersistence?: boolean;
  /** Creates the database worker (default: the package's worker script through the bundler). */
  readonly createWorker?: WorkerFactory;
}

/**
 * Opens (creating and migrating as needed) a database. In the first tab it starts a worker that
 * owns the file; other tabs of the same origin join it and share the same data.
 * @throws OversqliteError `opfs_unavailable`, `migration_failed`, `schema_too_new`, `leader_timeout`, `invalid_argument`.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const storage = options.storage ?? DEFAULT_STORAGE_KIND;
  if (!isStorageKind(storage)) throw new OversqliteError('invalid_argument', unknownStorageMessage());
  const kind = storageDescriptor(storage);
  if (
    kind.sharedAcrossTabs &&
    (typeof navigator === 'undefined' || navigator.locks === undefined || typeof BroadcastChannel === 'undefined')
  ) {
    throw new OversqliteError(
      'opfs_unavailable',
      "This context has no Web Locks or BroadcastChannel, which oversqlite needs to share an OPFS database between tabs. Use storage: 'memory'.",
    );
  }
  const sync = options.sync;
  if (sync !== undefined && (typeof sync.getToken !== 'function' || typeof sync.serverUrl !== 'string' || !Array.isArray(sync.tables))) {
    throw new OversqliteError('invalid_argument', 'sync needs serverUrl, remoteSchema, tables and a getToken function.');
  }
  for (const name of ['getTokenTimeoutMs', 'conflictResolverTimeoutMs'] as const) {
    if (!isCallbackTimeout(sync?.[name])) {
      throw new OversqliteError('invalid_argument', `sync.${name} must be an integer from 1 to ${MAX_CALLBACK_TIMEOUT_MS} (ms).`);
    }
  }
  const lease = options.transactionLeaseMs;
  if (lease !== undefined && (!Number.isInteger(lease) || lease < 1 || lease > 600_000)) {
    throw new OversqliteError('invalid_argument', 'transactionLeaseMs must be an integer from 1 to 600000 (ms).');
  }
  if (kind.persistable && options.requestPersistence !== false) void requestPersistentStorage();
  let database: Database | undefined;
  const coordinator = await TabCoordinator.open(
    {
      name: options.name,
      schema: options.schema,
      storage,
      workerFactory: options.createWorker ?? defaultWorkerFactory,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      ...(sync !== undefined
        ? {
            sync: {
              options: {
                serverUrl: sync.serverUrl,
                remoteSchema: sync.remoteSchema,
                tables: sync.tables.map((t) => ({ ...t })),
                conflicts: typeof sync.conflicts === 'function' ? 'custom' : (sync.conflicts ?? DEFAULT_CONFLICT_STRATEGY),
                ...(sync.anonymousData !== undefined ? { anonymousData: sync.anonymousData } : {}),
                ...(sync.getTokenTimeoutMs !== undefined ? { getTokenTimeoutMs: sync.getTokenTimeoutMs } : {}),
                ...(sync.conflictResolverTimeoutMs !== undefined ? { conflictResolverTimeoutMs: sync.conflictResolverTimeoutMs } : {}),
                ...(sync.autoSync !== undefined ? { autoSync: sync.autoSync } : {}),
              },
              getToken: sync.getToken,
              ...(typeof sync.conflicts === 'function'
                ? { resolveConflict: async (c: ConflictContext) => (sync.conflicts as ConflictResolver)(c) }
                : {}),
            },
          }
        : {}),
    },
    {
      onChange: (notice) => database?.handleChange(notice),
      onLeaderChange: () => database?.handleLeaderChange(),
      onWorkerEnded: () => database?.handleWorkerEnded(),
      onSyncEvent: (event) => database?.handleSyncEvent(event as SyncEvent),
    },
  );
  const syncHandle = new SyncHandle(
    options.name,
    sync === undefined ? undefined : async (method, args) => coordinator.call({ op: 'sync', method, args }),
  );
  database = new Database(options.name, storage, coordinator, syncHandle, lease);
  if (sync !== undefined) {
    const online = (): void => coordinator.setOnline(true);
    const offline = (): void => coordinator.setOnline(false);
    globalThis.addEventListener?.('online', online);
    globalThis.addEventListener?.('offline', offline);
    // Back in the foreground: sync now rather than at the next periodic run (leader tab only,
    // throttled; without autoSync the app syncs explicitly, so nothing is asked).
    const stopForeground =
      sync.autoSync && typeof globalThis.addEventListener === 'function'
        ? watchForeground({
            window: globalThis,
            ...(typeof document !== 'undefined' ? { document } : {}),
            isAttached: () => (syncHandle.status.get()?.userId ?? null) !== null,
            requestSync: () => coordinator.requestSync(),
          })
        : () => {};
    database.onClose(() => {
      globalThis.removeEventListener?.('online', online);
      globalThis.removeEventListener?.('offline', offline);
      stopForeground();
    });
    await syncHandle.refreshStatus();
  }
  return database;
}
