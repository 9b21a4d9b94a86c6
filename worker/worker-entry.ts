/**
 * The module worker script: one per leader tab and database. It exposes a {@link WorkerService}
 * through comlink; the tab creates it with
 * `new Worker(new URL('oversqlite/worker-entry', import.meta.url), { type: 'module' })`.
 */
import * as Comlink from 'comlink';
import { WorkerService } from './database/worker-service.ts';

Comlink.expose(new WorkerService());
