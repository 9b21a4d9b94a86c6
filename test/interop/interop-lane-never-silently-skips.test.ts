// The interop lane (`interop/run.mjs`, last step of `npm test`) without its go-oversync peer or
// without Go: on a developer machine it says how to provide them and skips (exit 0); under CI=true
// the same is a failure (exit 1). It stops before building anything, so this runs in a second.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PEER_INSTRUCTION } from '../../interop/peer-location.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'oversqlite-interop-lane-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runLane(env: Record<string, string | undefined>): { status: number | null; out: string } {
  const base: Record<string, string | undefined> = { ...process.env, CI: undefined };
  const r = spawnSync(process.execPath, ['interop/run.mjs'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...base, ...env } as NodeJS.ProcessEnv,
    timeout: 30_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const missingPeer = join(scratch, 'no-such-go-oversync');
const instruction = 'OVERSQLITE_GO_OVERSYNC_DIR=<path to go-oversync at 1f1118f>';

it('the instruction names the variable and the folder beside the repository', () => {
  expect(PEER_INSTRUCTION).toContain(instruction);
  expect(PEER_INSTRUCTION).toMatch(/or place it at \.\.\/\w+\/\w+\/go-oversync \(relative to the repository root\)/);
});

describe('without the go-oversync peer', () => {
  it('skips with the exact instruction on a developer machine', () => {
    const { status, out } = runLane({ OVERSQLITE_GO_OVERSYNC_DIR: missingPeer });
    expect(status).toBe(0);
    expect(out).toContain('interop: SKIPPED');
    expect(out).toContain(PEER_INSTRUCTION);
  });

  it('fails under CI=true', () => {
    const { status, out } = runLane({ OVERSQLITE_GO_OVERSYNC_DIR: missingPeer, CI: 'true' });
    expect(status).toBe(1);
    expect(out).toContain('interop: FAILED');
    expect(out).toContain(PEER_INSTRUCTION);
  });
});

describe('with a peer but without Go', () => {
  // A folder shaped like a go-oversync checkout: enough to get past the peer check.
  const fakePeer = join(scratch, 'go-oversync');
  mkdirSync(join(fakePeer, 'oversqlite'), { recursive: true });
  mkdirSync(join(fakePeer, 'oversync'), { recursive: true });
  writeFileSync(join(fakePeer, 'go.mod'), 'module github.com/mobiletoly/go-oversync\n');
  const noGoPath = join(scratch, 'empty-bin');
  mkdirSync(noGoPath, { recursive: true });

  it('skips, saying how to install Go', () => {
    const { status, out } = runLane({ OVERSQLITE_GO_OVERSYNC_DIR: fakePeer, PATH: noGoPath });
    expect(status).toBe(0);
    expect(out).toContain('interop: SKIPPED — Go is not installed');
    expect(out).toContain('install Go');
  });

  it('fails under CI=true', () => {
    const { status, out } = runLane({ OVERSQLITE_GO_OVERSYNC_DIR: fakePeer, PATH: noGoPath, CI: 'true' });
    expect(status).toBe(1);
    expect(out).toContain('interop: FAILED — Go is not installed');
  });
});
