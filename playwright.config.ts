/**
 * Playwright: real Chromium against the e2e page served by Vite. One worker (the machine has two
 * cores shared with others); specs that need a persistent profile launch their own browser.
 */
import { defineConfig } from '@playwright/test';
import { baseURL, chromiumArgs, chromiumPath } from './e2e/browser.ts';

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
  webServer: {
    command: `node node_modules/vite/bin/vite.js --config e2e/vite.config.ts`,
    url: `${baseURL}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
