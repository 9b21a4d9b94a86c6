#!/usr/bin/env node
// Interop with the go-oversync project's own peers (its Go client and its example server).
//
// The harness needs the Go module github.com/mobiletoly/go-oversync. This script first asks the
// Go module proxy for it; when Go or the module is unavailable it prints why and skips (exit 0),
// as the test command promises. It never fakes a peer.
import { spawnSync } from 'node:child_process';

const MODULE = 'github.com/mobiletoly/go-oversync';

function skip(reason) {
  console.log(`interop: SKIPPED — ${reason}`);
  process.exit(0);
}

const go = spawnSync('go', ['version'], { encoding: 'utf8' });
if (go.error || go.status !== 0) skip('Go is not installed (the interop peers are Go programs).');

const probe = spawnSync('go', ['list', '-m', '-json', `${MODULE}@latest`], {
  encoding: 'utf8',
  env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on' },
  cwd: process.env.TMPDIR ?? '/tmp',
  timeout: 60_000,
});
if (probe.status !== 0) {
  const why = (probe.stderr || probe.stdout || '').trim().split('\n').slice(-2).join(' ');
  skip(`the Go module proxy does not serve ${MODULE} (${why}). Without the module there is no Go peer to run.`);
}
const info = JSON.parse(probe.stdout);
console.log(`interop: ${MODULE} ${info.Version} is available, but the interop harness is not written yet (see README, Limits).`);
process.exit(0);
