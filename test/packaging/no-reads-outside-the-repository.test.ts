// A fresh clone needs nothing beside it: no test or script reads a path outside the repository
// except the interop lane's go-oversync source. `npm test` runs the same scan as its first step;
// this file also shows the scan catches the ways such reads were written before.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findOutsideReads, scanText } from '../../scripts/outside-paths.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('the repository reads nothing outside itself (interop lane excepted)', () => {
  expect(findOutsideReads(root)).toEqual([]);
});

describe('the scan flags', () => {
  const flagged: Array<[string, string]> = [
    ['test/contracts.ts', "export const DIR = join(here, '..', '..', 'shared', 'reference', 'oversqlite-contracts');"],
    ['test/contracts.ts', "const dir = process.env.X ?? '../shared/reference/oversqlite-contracts';"],
    ['test/engine/x.test.ts', "const f = readFileSync(new URL('../../../notes.json', import.meta.url));"],
    ['scripts/x.mjs', "const peer = join(repoRoot, '..', 'go-oversync');"],
    ['e2e/x.ts', "const data = readFileSync('/work/shared/docs/notes.md', 'utf8');"],
    ['bench/x.ts', 'const home = `/home/me/data.json`;'],
    // The interop exception covers the go-oversync source only.
    ['interop/run.mjs', "const fixtures = join(root, '..', 'shared', 'reference', 'oversqlite-contracts');"],
  ];
  for (const [file, line] of flagged) {
    it(`${file}: ${line}`, () => {
      expect(scanText(root, file, line)).toHaveLength(1);
    });
  }
});

describe('the scan allows', () => {
  const allowed: Array<[string, string]> = [
    ['test/engine/x.test.ts', "import { SyncEngine } from '../../worker/engine/index.ts';"],
    ['test/server-edges/fixtures/p.ts', "const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));"],
    ['scripts/demo.mjs', "const repoRoot = fileURLToPath(new URL('..', import.meta.url));"],
    ['test/contracts.ts', "export const DIR = fileURLToPath(new URL('./fixtures/oversqlite-contracts/', import.meta.url));"],
    ['test/contracts.ts', '/** Loads fixtures copied from ../shared/reference/oversqlite-contracts. */'],
    ['interop/run.mjs', "const src = process.env.OVERSQLITE_GO_OVERSYNC_DIR ?? join(root, '..', 'shared', 'reference', 'go-oversync');"],
    ['.ci/run', 'export OVERSQLITE_GO_OVERSYNC_DIR="$(cd ../shared/reference/go-oversync && pwd)"'],
    ['e2e/browser.ts', 'export const info = `/tmp/oversqlite-e2e-sync-${port}.json`;'],
  ];
  for (const [file, line] of allowed) {
    it(`${file}: ${line}`, () => {
      expect(scanText(root, file, line)).toEqual([]);
    });
  }
});
