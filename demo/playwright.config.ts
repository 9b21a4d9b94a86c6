/**
 * Playwright for the demo app: real Chromium (Debian's, see e2e/browser.ts) against what
 * `npm run demo` serves — the reference server on a throwaway in-memory PGlite plus the built app
 * with its service worker. Run with `node node_modules/@playwright/test/cli.js test -c demo/playwright.config.ts`.
 * DEMO_E2E_PORT moves the app (4391); the sync server takes any free port.
 */
import { defineConfig } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { chromiumArgs, chromiumPath } from '../e2e/browser.ts';

const appPort = Number(process.env.DEMO_E2E_PORT ?? 4391);

export default defineConfig({
  testDir: './e2e',
  testMatch: '*.spec.ts',
  outputDir: '../test-results/demo',
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${appPort}`,
    browserName: 'chromium',
    launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
    viewport: { width: 1280, height: 800 },
  },
  webServer: {
    command: 'node scripts/demo.mjs',
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { PORT: '0', DEMO_PORT: String(appPort), PGLITE_DIR: 'memory://', DEMO_QUIET: '1' },
    url: `http://127.0.0.1:${appPort}/`,
    reuseExistingServer: false,
    timeout: 90_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
