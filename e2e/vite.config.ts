/**
 * Serves the e2e test page (e2e/app) with the library sources. Deliberately no COOP/COEP headers:
 * oversqlite must work without cross-origin isolation.
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const port = Number(process.env.E2E_PORT ?? 5199);
const syncPort = Number(process.env.E2E_SYNC_PORT ?? 5198);

export default defineConfig({
  root: fileURLToPath(new URL('./app', import.meta.url)),
  server: {
    host: '127.0.0.1', port, strictPort: true, fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
    // Other people edit this tree while tests run: never reload a page under a running spec.
    hmr: false,
    watch: { ignored: ['**/*'] },
    // The sync server is reached same-origin, as an app behind one host would reach it.
    proxy: { '/sync': { target: `http://127.0.0.1:${syncPort}`, changeOrigin: false } },
  },
  // Pre-bundle everything the page and the worker import up front: a dependency discovered later
  // (worker imports are not scanned) makes Vite reload the page in the middle of a test.
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'], include: ['comlink', 'idb-keyval', 'jose'] },
  worker: { format: 'es' },
  build: { target: 'es2022' },
  logLevel: 'warn',
});
