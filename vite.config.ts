/**
 * Vite at the repository root.
 *
 * `npx vite` serves the demo app (demo/) from the library's TypeScript sources with hot reload,
 * against the reference sync server: one already answering at http://127.0.0.1:$PORT (8080), or
 * else one started inside this Vite process (embedded PGlite in `.pglite`, or DATABASE_URL;
 * PGLITE_DIR and JWT_SECRET as for `npm run server`), stopped with Vite. `npx vite build` builds
 * the demo into dist/demo (what `npm run demo` serves; it passes DEMO_SERVER_URL).
 *
 * {@link sourcePagesBase} is the one base the repository's pages share — the demo, the e2e test
 * page (e2e/vite.config.ts) and the benchmark page (bench/vite.config.ts) — instead of a copy each.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vite';
import type { Plugin, UserConfig } from 'vite';
import { precacheServiceWorker } from './demo/build/precache-plugin.ts';

const repoRoot = fileURLToPath(new URL('.', import.meta.url));

/**
 * What every page that imports the library's sources needs: Vite may serve files from the whole
 * repository (and from node_modules where it is a symlink); sqlite-wasm stays out of dependency
 * pre-bundling (its `.wasm` is found next to its module); what the worker imports is pre-bundled
 * up front, because Vite does not scan worker imports and a late discovery reloads the page; the
 * worker is an ES module worker, as the library creates it. Apps using the packed library need
 * none of this (README, Install).
 */
export function sourcePagesBase(): UserConfig {
  return {
    server: { host: '127.0.0.1', strictPort: true, fs: { allow: [repoRoot, realpathSync(`${repoRoot}node_modules`)] } },
    preview: { host: '127.0.0.1', strictPort: true },
    optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'], include: ['comlink', 'idb-keyval', 'jose'] },
    // The build timing report is noise (a busy machine makes the wasm-URL transform look slow).
    worker: { format: 'es', rolldownOptions: { checks: { bundlerTimings: false } } },
    build: { target: 'es2022', rolldownOptions: { checks: { bundlerTimings: false } } },
    logLevel: 'warn',
  };
}

/** The demo app: its root, the sync server URL baked in as `__DEMO_SERVER_URL__`, its PWA build. */
export function demoConfig(serverUrl: string): UserConfig {
  const port = Number(process.env.DEMO_PORT ?? 4173);
  return mergeConfig(sourcePagesBase(), {
    root: fileURLToPath(new URL('./demo', import.meta.url)),
    // Relative asset URLs so the build works under any path prefix.
    base: './',
    define: { __DEMO_SERVER_URL__: JSON.stringify(serverUrl) },
    server: { port },
    preview: { port },
    build: {
      outDir: fileURLToPath(new URL('./dist/demo', import.meta.url)),
      emptyOutDir: true,
      rolldownOptions: {
        input: {
          app: fileURLToPath(new URL('./demo/index.html', import.meta.url)),
          sw: fileURLToPath(new URL('./demo/sw/service-worker.ts', import.meta.url)),
        },
        // The service worker must keep a stable URL (its scope is where it lives); the rest is hashed.
        output: { entryFileNames: (chunk: { name: string }) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js') },
      },
    },
    plugins: [precacheServiceWorker({ serviceWorkerFile: 'sw.js' })],
  } satisfies UserConfig);
}

/** True when an oversync server answers at `url`. */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/sync/capabilities`, { signal: AbortSignal.timeout(1500) });
    return response.status < 500;
  } catch {
    return false;
  }
}

/** Starts the reference server in this process and returns its URL and a plugin that stops it with Vite. */
async function embeddedReferenceServer(port: number): Promise<{ url: string; plugin: Plugin }> {
  // tsx loads the server's TypeScript as `npm run server` does (Vite's config bundler is not meant for it).
  const { tsImport } = await import('tsx/esm/api');
  const serverModule = new URL('./server/reference/reference-server.ts', import.meta.url).href;
  const { startReferenceServer } = (await tsImport(
    serverModule,
    import.meta.url,
  )) as typeof import('./server/reference/reference-server.ts');
  const server = await startReferenceServer({
    port,
    host: '127.0.0.1',
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    ...(process.env.PGLITE_DIR ? { pgliteDir: process.env.PGLITE_DIR } : {}),
    ...(process.env.JWT_SECRET ? { jwtSecret: process.env.JWT_SECRET } : {}),
    // Only the start-up lines: per-request lines would bury Vite's own output.
    log: (line) => {
      if (!/^(GET|POST|PUT|DELETE|OPTIONS|PATCH|HEAD) \//.test(line)) console.log(`[server] ${line}`);
    },
  });
  const plugin: Plugin = {
    name: 'oversqlite-reference-server',
    apply: 'serve',
    configureServer(vite) {
      vite.httpServer?.once('listening', () => console.log(`[demo] syncing with the reference server at ${server.url}`));
    },
    async closeBundle() {
      await server.close();
    },
  };
  return { url: server.url, plugin };
}

export default defineConfig(async ({ command, isPreview }) => {
  if (process.env.DEMO_SERVER_URL) return demoConfig(process.env.DEMO_SERVER_URL);
  const port = Number(process.env.PORT || 8080);
  const url = `http://127.0.0.1:${port}`;
  if (command !== 'serve' || isPreview) return demoConfig(url);
  if (await answers(url)) return mergeConfig(demoConfig(url), { logLevel: 'info' });
  const embedded = await embeddedReferenceServer(port);
  // `info`: Vite prints the URL to open.
  return mergeConfig(demoConfig(embedded.url), { plugins: [embedded.plugin], logLevel: 'info' });
});
