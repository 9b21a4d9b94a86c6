/**
 * Playwright: real Chromium against the e2e page served by Vite. One worker (the machine has two
 * cores shared with others); specs that need a persistent profile launch their own browser.
 */
import { defineConfig } from '@playwright/test';
import { baseURL, chromiumArgs, chromiumPath, syncPort } from './e2e/browser.ts';

export default defineConfig({
  testDir: './e2e',
  testMatch: '*.spec.ts',
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
  },
  webServer: [
    {
      // The real sync server on a fresh PostgreSQL database, shared by every spec (specs use distinct users).
      command: 'node --import tsx e2e/sync-server-main.ts',
      url: `http://127.0.0.1:${syncPort}/sync/capabilities`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
    },
    {
      command: 'node node_modules/vite/bin/vite.js --config e2e/vite.config.ts',
      url: `${baseURL}/`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
