#!/usr/bin/env node
// `npm test`: type-check, unit + integration tests (vitest), then end-to-end tests in real
// Chromium (Playwright) and the Go interop harness. Each step prints what it runs; the first
// failing step fails the run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const steps = [
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['unit + integration (vitest)', 'npx', ['vitest', 'run']],
];
const hasE2e = existsSync('e2e') && readdirSync('e2e').some((f) => f.endsWith('.spec.ts'));
if (hasE2e && !process.env.OVERSQLITE_SKIP_E2E) steps.push(['end-to-end (Playwright, Chromium)', 'node', ['scripts/e2e.mjs']]);
if (existsSync('interop/run.mjs')) steps.push(['interop (go-oversync peers)', 'node', ['interop/run.mjs']]);

for (const [name, cmd, args] of steps) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    console.error(`\n=== ${name} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}
console.log('\n=== all test steps passed');
