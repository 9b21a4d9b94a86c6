#!/usr/bin/env node
// `npm test`: type-check, unit + integration tests (vitest), then end-to-end tests in real
// Chromium (Playwright) and the Go interop harness. Each step prints what it runs; the first
// failing step fails the run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const steps = [
  // A fresh clone needs nothing beside it (interop's go-oversync source excepted): fail fast if not.
  ['self-contained (no reads outside the repository)', 'node', ['scripts/outside-paths.mjs']],
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  // One format for every source file (.prettierrc.json); `npm run format` applies it.
  ['formatting (prettier --check)', 'npx', ['prettier', '--check', '.', '--log-level', 'warn']],
  ['unit + integration (vitest)', 'npx', ['vitest', 'run']],
  // The server's own suite and the hostile-input suite again on embedded PGlite: the runtime must
  // behave the same on both engines.
  ['server suite on PGlite (vitest)', 'npx', ['vitest', 'run', 'test/server/', 'test/server-hostile/'], { OVERSQLITE_TEST_DB: 'pglite' }],
];
const hasE2e = existsSync('e2e') && readdirSync('e2e').some((f) => f.endsWith('.spec.ts'));
if (hasE2e && !process.env.OVERSQLITE_SKIP_E2E) steps.push(['end-to-end (Playwright, Chromium)', 'node', ['scripts/e2e.mjs']]);
if (existsSync('demo/playwright.config.ts') && !process.env.OVERSQLITE_SKIP_E2E) {
  steps.push(['demo end-to-end (Playwright, Chromium)', 'node', ['scripts/e2e.mjs', '-c', 'demo/playwright.config.ts']]);
}
if (existsSync('interop/run.mjs')) steps.push(['interop (go-oversync peers)', 'node', ['interop/run.mjs']]);

// A cached empty PGlite cluster spares each PGlite test database its initdb (seconds each).
const pgliteTemplate = process.env.OVERSQLITE_PGLITE_TEMPLATE_DIR ?? join(tmpdir(), 'oversqlite-pglite-template');

for (const [name, cmd, args, extraEnv = {}] of steps) {
  const env = { ...process.env, OVERSQLITE_PGLITE_TEMPLATE_DIR: pgliteTemplate, ...extraEnv };
  console.log(
    `\n=== ${name}: ${Object.entries(extraEnv)
      .map(([k, v]) => `${k}=${v} `)
      .join('')}${cmd} ${args.join(' ')}`,
  );
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`\n=== ${name} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}
console.log('\n=== all test steps passed');
