/**
 * The module worker script: one per leader tab and database. It exposes a {@link WorkerService}
 * through comlink. The facade creates it by default; an app that bundles the worker itself
 * (export `oversqlite/worker-entry`) passes e.g. in Vite
 * `createWorker: (name) => new OversqliteWorker({ name })` with
 * `import OversqliteWorker from 'oversqlite/worker-entry?worker'` (bundlers do not resolve package
 * names inside `new URL()`).
 */
import * as Comlink from 'comlink';
import { WorkerService } from './database/worker-service.ts';

Comlink.expose(new WorkerService());
