/**
 * Serves the e2e test page (e2e/app) with the library sources, on the repository's shared page
 * base (root vite.config.ts). Deliberately no COOP/COEP headers: oversqlite must work without
 * cross-origin isolation.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vite';
import { sourcePagesBase } from '../vite.config.ts';

const port = Number(process.env.E2E_PORT ?? 5199);
const syncPort = Number(process.env.E2E_SYNC_PORT ?? 5198);

export default defineConfig(
  mergeConfig(sourcePagesBase(), {
    root: fileURLToPath(new URL('./app', import.meta.url)),
    server: {
      port,
      // Other people edit this tree while tests run: never reload a page under a running spec.
      hmr: false,
      watch: { ignored: ['**/*'] },
      // The sync server is reached same-origin, as an app behind one host would reach it.
      proxy: { '/sync': { target: `http://127.0.0.1:${syncPort}`, changeOrigin: false } },
    },
  }),
);
