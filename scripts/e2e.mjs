#!/usr/bin/env node
// End-to-end tests in real Chromium (Playwright). Picks a free port for the test page server,
// checks that Chromium is installed (Playwright cannot download one here), then runs the specs.
// Extra arguments are passed to `playwright test` (e.g. a spec file or `-g <name>`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.error(`Chromium was not found at ${chromium}.
Install it with:
    apt-get install -y chromium
(or set CHROMIUM_PATH to a Chromium/Chrome binary), then run the e2e tests again.`);
  process.exit(1);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// The page server and the sync server (real server, fresh PostgreSQL database) both need ports.
const port = process.env.E2E_PORT ?? String(await freePort());
let syncPort = process.env.E2E_SYNC_PORT;
while (syncPort === undefined || syncPort === port) syncPort = String(await freePort());
const result = spawnSync('node', ['node_modules/@playwright/test/cli.js', 'test', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, E2E_PORT: port, E2E_SYNC_PORT: syncPort, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
});
process.exit(result.status ?? 1);
