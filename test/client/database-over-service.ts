/**
 * Test seam: the real main-thread {@link Database} (and so the ORM bindings over it) on a real
 * {@link WorkerService} in Node, through {@link serviceHandler} instead of a worker and comlink
 * (the browser path is covered by the e2e specs). Commit notices reach the facade as they would.
 */
import { Database } from '../../src/database.ts';
import { SyncHandle } from '../../src/sync-handle.ts';
import type { TabCoordinator } from '../../src/tab-coordinator.ts';
import type { AppSchema } from '../../worker/database/types.ts';
import type { WorkerSyncOptions } from '../../worker/database/worker-service.ts';
import { WorkerService } from '../../worker/database/worker-service.ts';
import { serviceHandler } from './service-request-handler.ts';

/** A facade over a fresh in-memory worker service; `service` is the same worker, for direct checks. */
export interface DatabaseOverService {
  readonly db: Database;
  readonly service: WorkerService;
}

/** Opens `schema` in memory (with `sync` if given) and puts the facade on it. */
export async function openDatabaseOverService(
  name: string,
  schema: AppSchema,
  options: {
    readonly sync?: WorkerSyncOptions;
    readonly getToken?: () => Promise<string | null>;
    readonly transactionLeaseMs?: number;
  } = {},
): Promise<DatabaseOverService> {
  const service = new WorkerService();
  let db: Database | undefined;
  const opened = await service.open(
    { name, schema, storage: 'memory', ...(options.sync ? { sync: options.sync } : {}) },
    {
      onCommit: (notice) => db?.handleChange(notice),
      onSyncEvent: (event) => db?.handleSyncEvent(event),
      ...(options.getToken ? { getToken: options.getToken } : {}),
    },
  );
  if (!opened.ok) throw new Error(`open failed: ${opened.error.code}: ${opened.error.message}`);
  const handler = serviceHandler(service);
  const coordinator = {
    role: 'leader',
    call: (request) => handler.handle(request),
    close: () => service.close(),
  } as Pick<TabCoordinator, 'role' | 'call' | 'close'> as TabCoordinator;
  const sync = new SyncHandle(name, options.sync ? (method, args) => coordinator.call({ op: 'sync', method, args }) : undefined);
  db = new Database(name, 'memory', coordinator, sync, options.transactionLeaseMs);
  return { db, service };
}
