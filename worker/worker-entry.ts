/**
 * The module worker script: one per leader tab and database. It serves a {@link WorkerService}
 * to its tab (worker-calls.ts). The facade creates it by default; an app that bundles the worker itself
 * (export `oversqlite/worker-entry`) passes e.g. in Vite
 * `createWorker: (name) => new OversqliteWorker({ name })` with
 * `import OversqliteWorker from 'oversqlite/worker-entry?worker'` (bundlers do not resolve package
 * names inside `new URL()`).
 */
import { serveCalls } from './database/worker-calls.ts';
import { WorkerService } from './database/worker-service.ts';

serveCalls(self, new WorkerService());
