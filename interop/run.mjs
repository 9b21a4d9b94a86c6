#!/usr/bin/env node
// The interop lane of `npm test`: the go-oversync project's own peers (commit 1f1118f) against ours.
//
//   1. Go-client lane (interop/go-client/, interop/go-client-lane.mjs): go-oversync's `oversqlite`
//      Go client against our server running go-oversync's example schema.
//   2. Node lane (interop/node/, run with interop/vitest.config.ts): our client against
//      go-oversync's example server. Each test may append result rows to the JSON-lines file named
//      by $OVERSQLITE_INTEROP_RESULTS ({"scenario","direction","dialect","result"} per line);
//      without rows, the table shows one row per vitest test.
//
// Without go-oversync (a fresh machine outside this project) the lane says how to provide it and
// skips (exit 0); under CI=true a missing peer or a missing Go toolchain fails the run (exit 1).
// At the end it prints a table: scenario, direction, dialect, result.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasGo } from './go-build.mjs';
import { PEER_ENV, PEER_INSTRUCTION, locatePeer, repoRoot } from './peer-location.mjs';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

const GO_INSTRUCTION = 'install Go 1.25 or newer (https://go.dev/dl/) and a C compiler (cgo builds go-sqlite3), with `go` on PATH';

function unavailable(reason, instruction) {
  if (inCi) {
    console.error(`interop: FAILED — ${reason}`);
    console.error(`interop: CI=true, so the interop lane may not be skipped. To run it: ${instruction}.`);
    process.exit(1);
  }
  console.log(`interop: SKIPPED — ${reason}`);
  console.log(`interop: to run it: ${instruction}.`);
  process.exit(0);
}

const peer = locatePeer();
if (!peer.path) unavailable(peer.reason, PEER_INSTRUCTION);
if (!hasGo()) unavailable('Go is not installed (the go-oversync peers are Go programs built from source).', GO_INSTRUCTION);
console.log(`interop: go-oversync peer at ${peer.path}`);

/** @type {{ scenario: string, direction: string, dialect: string, result: string, detail?: string }[]} */
const rows = [];
const laneFailures = [];

// 1. go-oversync's Go client against our server.
if (existsSync(join(repoRoot, 'interop', 'go-client'))) {
  const { runGoClientLane } = await import('./go-client-lane.mjs');
  try {
    rows.push(...(await runGoClientLane({ peerPath: peer.path })));
  } catch (error) {
    laneFailures.push(`Go-client lane: ${error instanceof Error ? error.message : String(error)}`);
  }
} else {
  console.log('interop: Go-client lane not present (interop/go-client/ missing).');
}

// 2. Our client against go-oversync's server.
if (existsSync(join(repoRoot, 'interop', 'node', 'README.md')) && existsSync(join(repoRoot, 'interop', 'vitest.config.ts'))) {
  const scratch = mkdtempSync(join(tmpdir(), 'oversqlite-interop-node-'));
  const resultsFile = join(scratch, 'rows.jsonl');
  const reportFile = join(scratch, 'vitest.json');
  console.log('\ninterop: Node lane: npx vitest run -c interop/vitest.config.ts');
  const r = spawnSync(
    'npx',
    ['vitest', 'run', '-c', 'interop/vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`],
    {
      cwd: repoRoot,
      stdio: 'inherit',
      env: { ...process.env, [PEER_ENV]: peer.path, OVERSQLITE_INTEROP_RESULTS: resultsFile },
    },
  );
  const laneRows = existsSync(resultsFile)
    ? readFileSync(resultsFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
    : [];
  if (laneRows.length === 0 && existsSync(reportFile)) {
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    for (const file of report.testResults ?? []) {
      for (const t of file.assertionResults ?? []) {
        laneRows.push({
          scenario: t.fullName ?? t.title,
          direction: 'oversqlite client → go-oversync server',
          dialect: 'go-oversync 1f1118f',
          result: t.status === 'passed' ? 'pass' : t.status === 'failed' ? 'FAIL' : t.status,
        });
      }
    }
  }
  rows.push(...laneRows);
  if (r.status !== 0) laneFailures.push(`Node lane: vitest exited ${r.status ?? r.signal}`);
  rmSync(scratch, { recursive: true, force: true });
} else {
  console.log('interop: Node lane not present (interop/node/README.md or interop/vitest.config.ts missing).');
}

printTable(rows);
const failed = rows.filter((r) => r.result !== 'pass');
for (const f of laneFailures) console.error(`interop: ${f}`);
if (failed.length > 0 || laneFailures.length > 0) {
  console.error(`interop: ${failed.length} of ${rows.length} scenarios did not pass`);
  process.exit(1);
}
if (rows.length === 0) {
  console.log('interop: no lane ran any scenario');
  process.exit(inCi ? 1 : 0);
}
console.log(`interop: all ${rows.length} scenarios passed`);

function printTable(all) {
  const head = { scenario: 'scenario', direction: 'direction', dialect: 'dialect', result: 'result' };
  const cols = ['scenario', 'direction', 'dialect', 'result'];
  // Long vitest names would make every line wrap: cells are cut at 80 characters.
  const cell = (v) => (String(v).length > 80 ? `${String(v).slice(0, 79)}…` : String(v));
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(c.length, ...all.map((r) => cell(r[c]).length))]));
  const line = (r) => cols.map((c) => cell(r[c]).padEnd(width[c])).join(' | ');
  console.log(`\n${line(head)}\n${cols.map((c) => '-'.repeat(width[c])).join('-|-')}`);
  for (const r of all) {
    console.log(line(r));
    if (r.result !== 'pass' && r.detail) console.log(`    ${r.detail.split('\n').join('\n    ')}`);
  }
}
