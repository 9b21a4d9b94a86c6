/**
 * Builds and serves the demo app (demo/) with the library sources from this repository.
 * `npm run demo` (scripts/demo.mjs) builds it and serves the build with `vite preview`, because
 * the service worker precaches the built files; `vite --config demo/vite.config.ts` also works
 * for UI work (no offline shell there).
 *
 * DEMO_SERVER_URL (set by scripts/demo.mjs) is the oversync server the app talks to; it is baked
 * into the build. DEMO_PORT chooses the port of the dev and preview servers.
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { precacheServiceWorker } from './build/precache-plugin.ts';

const port = Number(process.env.DEMO_PORT ?? 4173);
const serverUrl = process.env.DEMO_SERVER_URL ?? 'http://127.0.0.1:8080';
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Relative asset URLs so the build works under any path prefix.
  base: './',
  define: { __DEMO_SERVER_URL__: JSON.stringify(serverUrl) },
  server: { host: '127.0.0.1', port, strictPort: true, fs: { allow: [repoRoot] } },
  preview: { host: '127.0.0.1', port, strictPort: true },
  // Pre-bundle the worker's dependencies too (worker imports are not scanned; a late discovery reloads the page).
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'], include: ['comlink', 'idb-keyval', 'jose'] },
  worker: { format: 'es', rolldownOptions: { checks: { bundlerTimings: false } } },
  build: {
    target: 'es2022',
    outDir: fileURLToPath(new URL('../dist/demo', import.meta.url)),
    emptyOutDir: true,
    rolldownOptions: {
      // The build timing report is noise in `npm run demo` (a busy machine makes the wasm-URL transform look slow).
      checks: { bundlerTimings: false },
      input: {
        app: fileURLToPath(new URL('./index.html', import.meta.url)),
        sw: fileURLToPath(new URL('./sw/service-worker.ts', import.meta.url)),
      },
      // The service worker must keep a stable URL (its scope is where it lives); the rest is hashed.
      output: { entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js') },
    },
  },
  plugins: [precacheServiceWorker({ serviceWorkerFile: 'sw.js' })],
  logLevel: 'warn',
});
