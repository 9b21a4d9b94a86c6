/**
 * Serves the e2e test page (e2e/app) with the library sources. Deliberately no COOP/COEP headers:
 * oversqlite must work without cross-origin isolation.
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const port = Number(process.env.E2E_PORT ?? 5199);

export default defineConfig({
  root: fileURLToPath(new URL('./app', import.meta.url)),
  server: { host: '127.0.0.1', port, strictPort: true, fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  // Pre-bundle everything the page and the worker import up front: a dependency discovered later
  // (worker imports are not scanned) makes Vite reload the page in the middle of a test.
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'], include: ['comlink', 'idb-keyval', 'jose'] },
  worker: { format: 'es' },
  build: { target: 'es2022' },
  logLevel: 'warn',
});
