/**
 * Builds and serves the benchmark page (bench/app) with the library sources, on the repository's
 * shared page base (root vite.config.ts). The runner uses `vite build` + `vite preview`:
 * production bundles, and no dev-server reload when another engineer edits a source file in the
 * shared tree mid-run. The sync protocol paths are proxied to the sync server under test
 * (BENCH_SYNC_URL), so browser devices talk to it same-origin and no CORS setup in the server is needed.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vite';
import { sourcePagesBase } from '../vite.config.ts';

const syncTarget = process.env.BENCH_SYNC_URL;
const proxy = syncTarget
  ? { '/sync': { target: syncTarget, changeOrigin: false }, '/syncx': { target: syncTarget, changeOrigin: false } }
  : undefined;
const port = Number(process.env.BENCH_PORT ?? 5299);

export default defineConfig(
  mergeConfig(sourcePagesBase(), {
    root: fileURLToPath(new URL('./app', import.meta.url)),
    server: { port, ...(proxy ? { proxy } : {}) },
    preview: {
      // Cross-origin isolation only for timer precision: without it Chromium coarsens
      // performance.now() to 100 µs, and an in-worker point query takes less than that. The code
      // paths measured are the same either way (opfs-sahpool needs no SharedArrayBuffer).
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
      port,
      ...(proxy ? { proxy } : {}),
    },
    build: { outDir: process.env.BENCH_OUT_DIR ?? 'dist', emptyOutDir: true },
  }),
);
