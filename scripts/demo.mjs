#!/usr/bin/env node
// `npm run demo`: the reference sync server (in this process, on embedded PGlite unless
// DATABASE_URL is set) plus the demo app, built and served by `vite preview` (a build, because
// the offline service worker precaches the built files). Prints the URL to open; Ctrl-C or
// SIGTERM stops both.
//
// Environment: PORT (sync server, 8080; 0 = any free port) · DEMO_PORT (app, 4173) ·
// DATABASE_URL (real PostgreSQL) · PGLITE_DIR (.pglite; memory:// for a throwaway database) ·
// JWT_SECRET · DEMO_QUIET=1 (no per-request server log lines).
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
// The root vite.config.ts: the demo app, here with DEMO_SERVER_URL naming the server started below.
const demoConfig = fileURLToPath(new URL('../vite.config.ts', import.meta.url));

function fail(message) {
  console.error(`\nnpm run demo: ${message}`);
  process.exit(1);
}

function portFromEnv(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`${name} must be a port number, got "${value}".`);
  return port;
}

function listenersOf() {
  return { sigterm: new Set(process.listeners('SIGTERM')), stdinEnd: new Set(process.stdin.listeners('end')) };
}

function dropListenersAddedSince(before) {
  for (const listener of process.listeners('SIGTERM')) if (!before.sigterm.has(listener)) process.off('SIGTERM', listener);
  for (const listener of process.stdin.listeners('end')) if (!before.stdinEnd.has(listener)) process.stdin.off('end', listener);
}

const serverPort = portFromEnv('PORT', 8080);
const appPort = portFromEnv('DEMO_PORT', 4173);
const quiet = process.env.DEMO_QUIET === '1';

const { startReferenceServer } = await tsImport('../server/reference/reference-server.ts', import.meta.url);
let server;
try {
  server = await startReferenceServer({
    port: serverPort,
    host: process.env.HOST || '127.0.0.1',
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    ...(process.env.PGLITE_DIR ? { pgliteDir: process.env.PGLITE_DIR } : {}),
    ...(process.env.JWT_SECRET ? { jwtSecret: process.env.JWT_SECRET } : {}),
    log: (line) => {
      // Per-request lines are useful when watching sync happen; DEMO_QUIET=1 keeps only the rest.
      if (!quiet || !/^(GET|POST|PUT|DELETE|OPTIONS|PATCH|HEAD) \//.test(line)) console.log(`[server] ${line}`);
    },
  });
} catch (error) {
  const hint = error?.code === 'EADDRINUSE' ? ` Port ${serverPort} is in use: set PORT to another port (PORT=0 picks a free one).` : '';
  fail(`the sync server did not start: ${error instanceof Error ? error.message : String(error)}.${hint}`);
}

// The app is built with the server's URL baked in (the port may have been chosen just now).
process.env.DEMO_SERVER_URL = server.url;
process.env.DEMO_PORT = String(appPort);
const { build, preview } = await import('vite');
let app;
try {
  console.log('[demo] building the app…');
  await build({ configFile: demoConfig, root: `${repoRoot}demo`, logLevel: 'warn' });
  const viteListeners = listenersOf();
  app = await preview({ configFile: demoConfig, root: `${repoRoot}demo`, logLevel: 'warn' });
  // Vite's preview exits the process on SIGTERM (and when stdin ends) after closing only itself;
  // this script stops both servers instead, so the database closes cleanly.
  dropListenersAddedSince(viteListeners);
} catch (error) {
  await server.close();
  const hint = error?.code === 'EADDRINUSE' || /in use/.test(String(error?.message)) ? ` Set DEMO_PORT to a free port.` : '';
  fail(`the app did not start: ${error instanceof Error ? error.message : String(error)}.${hint}`);
}

const appUrl = app.resolvedUrls?.local[0] ?? `http://127.0.0.1:${appPort}/`;
console.log(`
  oversqlite demo is running.

    Open   ${appUrl}
    Sync   ${server.url} (${process.env.DATABASE_URL ? 'PostgreSQL' : `embedded PGlite, ${process.env.PGLITE_DIR || '.pglite'}`})

  Sign in with any user name. Open a second browser (or a private window) as the same user to
  watch them converge; take one offline in DevTools and keep editing. Ctrl-C stops.
`);

let stopping = false;
async function stop(signal) {
  if (stopping) process.exit(1);
  stopping = true;
  console.log(`\n[demo] ${signal}: stopping…`);
  await Promise.allSettled([app.close(), server.close()]);
  console.log('[demo] stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
