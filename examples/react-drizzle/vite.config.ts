/**
 * Serves the example against the library's sources in this repository (an app of its own would
 * install `oversqlite` and need no aliases). `npx vite --config examples/react-drizzle/vite.config.ts`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vite';
import { sourcePagesBase } from '../../vite.config.ts';

const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

export default defineConfig(
  mergeConfig(sourcePagesBase(), {
    root: fileURLToPath(new URL('.', import.meta.url)),
    // Its own dependency cache: the e2e suite runs this server beside the test page's Vite, and a
    // shared cache re-optimised for this app would pull the other server's modules from under it.
    cacheDir: fileURLToPath(new URL('../../node_modules/.vite-example-react-drizzle', import.meta.url)),
    resolve: {
      alias: [
        { find: /^oversqlite\/(react|drizzle)$/, replacement: src('$1/index.ts') },
        { find: /^oversqlite$/, replacement: src('index.ts') },
      ],
    },
    server: { port: Number(process.env.PORT ?? 5180), hmr: false },
  }),
);
