// Where the go-oversync source (github.com/mobiletoly/go-oversync at commit 1f1118f) lives on this
// machine. The interop lanes build its Go client and its example server from that folder; the
// Go module proxy does not serve the module itself.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding interop/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Environment variable that points at a go-oversync checkout. */
export const PEER_ENV = 'OVERSQLITE_GO_OVERSYNC_DIR';

/** The commit the interop lanes are written against. */
export const PEER_COMMIT = '1f1118f';

/** The instruction printed when no peer is found. */
export const PEER_INSTRUCTION =
  `set ${PEER_ENV}=<path to go-oversync at ${PEER_COMMIT}> ` +
  `or place it at ../shared/reference/go-oversync (relative to the repository root)`;

function isGoOversync(dir) {
  return existsSync(join(dir, 'go.mod')) && existsSync(join(dir, 'oversqlite')) && existsSync(join(dir, 'oversync'));
}

/**
 * Locates go-oversync: `$OVERSQLITE_GO_OVERSYNC_DIR` first, then `../shared/reference/go-oversync`
 * relative to the repository root.
 * @returns {{ path: string } | { path: null, reason: string }}
 */
export function locatePeer(env = process.env) {
  const fromEnv = env[PEER_ENV];
  if (fromEnv) {
    const dir = resolve(fromEnv);
    if (isGoOversync(dir)) return { path: dir };
    return { path: null, reason: `${PEER_ENV}=${fromEnv} is not a go-oversync checkout (no go.mod, oversqlite/ and oversync/ there)` };
  }
  const candidate = resolve(repoRoot, '..', 'shared', 'reference', 'go-oversync');
  if (isGoOversync(candidate)) return { path: candidate };
  return { path: null, reason: `go-oversync not found at ${candidate} and ${PEER_ENV} is not set` };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const found = locatePeer();
  if (found.path) console.log(found.path);
  else {
    console.error(`${found.reason}; ${PEER_INSTRUCTION}`);
    process.exit(1);
  }
}
