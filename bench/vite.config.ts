/**
 * Builds and serves the benchmark page (bench/app) with the library sources. The runner uses
 * `vite build` + `vite preview`: production bundles, and no dev-server reload when another
 * engineer edits a source file in the shared tree mid-run. The sync
 * protocol paths are proxied to the sync server under test (BENCH_SYNC_URL), so browser devices
 * talk to it same-origin and no CORS setup in the server is needed.
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const syncTarget = process.env.BENCH_SYNC_URL;
const proxy = syncTarget
  ? { '/sync': { target: syncTarget, changeOrigin: false }, '/syncx': { target: syncTarget, changeOrigin: false } }
  : undefined;

export default defineConfig({
  root: fileURLToPath(new URL('./app', import.meta.url)),
  server: {
    host: '127.0.0.1',
    port: Number(process.env.BENCH_PORT ?? 5299),
    strictPort: true,
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
    ...(proxy ? { proxy } : {}),
  },
  preview: {
    // Cross-origin isolation only for timer precision: without it Chromium coarsens
    // performance.now() to 100 µs, and an in-worker point query takes less than that. The code
    // paths measured are the same either way (opfs-sahpool needs no SharedArrayBuffer).
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    host: '127.0.0.1',
    port: Number(process.env.BENCH_PORT ?? 5299),
    strictPort: true,
    ...(proxy ? { proxy } : {}),
  },
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  worker: { format: 'es' },
  build: { target: 'es2022', outDir: process.env.BENCH_OUT_DIR ?? 'dist', emptyOutDir: true },
  logLevel: 'warn',
});
