// Builds a Go main package kept in a folder of interop/ against the go-oversync source found by
// peer-location.mjs. The peer folder is read-only (CI), so the build happens in a temporary
// module whose go.mod replaces github.com/mobiletoly/go-oversync with that folder; every other
// dependency comes from the Go module proxy (GOFLAGS=-mod=mod). The binary is cached in the OS
// temp dir under a hash of everything that goes into it, so a second run only hashes files.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { repoRoot } from './peer-location.mjs';

const PEER_MODULE = 'github.com/mobiletoly/go-oversync';

/** Cache folder for built interop binaries (one subfolder per content hash). */
export const buildCacheDir = join(tmpdir(), 'oversqlite-interop-go');

function listFiles(dir, skip = () => false) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (skip(entry.name)) continue;
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

function goVersion(env) {
  const r = spawnSync('go', ['version'], { encoding: 'utf8', env });
  if (r.error || r.status !== 0) return null;
  return r.stdout.trim();
}

/** True when a Go toolchain is on PATH. */
export function hasGo() {
  return goVersion(process.env) !== null;
}

function goModText(folder, peerPath) {
  return [
    `module oversqlite.local/interop/${folder.replace(/[^A-Za-z0-9._/-]/g, '_')}`,
    '',
    'go 1.25.0',
    '',
    `require ${PEER_MODULE} v0.0.0-00010101000000-000000000000`,
    '',
    `replace ${PEER_MODULE} => ${peerPath}`,
    '',
  ].join('\n');
}

/**
 * Builds `interop/<folder>` (a Go main package) and returns the binary's path.
 * @param {{ folder: string, peerPath: string, log?: (line: string) => void }} options
 * @returns {{ binary: string, cached: boolean, ms: number }}
 */
export function buildGoProgram({ folder, peerPath, log = (line) => console.log(line) }) {
  const started = Date.now();
  const srcDir = resolve(repoRoot, 'interop', folder);
  const env = { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on', GOWORK: 'off' };
  const version = goVersion(env);
  if (!version) throw new Error('Go is not installed (go version failed): the interop peers are Go programs');

  const hash = createHash('sha256');
  hash.update(`${version}\n${goModText(folder, peerPath)}\n`);
  const srcFiles = listFiles(srcDir, (name) => name === 'README.md');
  const peerFiles = listFiles(peerPath, (name) => name === '.git');
  for (const [root, files] of [
    [srcDir, srcFiles],
    [peerPath, peerFiles],
  ]) {
    for (const f of files) {
      hash.update(`${relative(root, f)}\0`);
      hash.update(readFileSync(f));
      hash.update('\0');
    }
  }
  const key = hash.digest('hex').slice(0, 24);
  const outDir = join(buildCacheDir, `${folder.replace(/[^A-Za-z0-9_-]/g, '_')}-${key}`);
  const binary = join(outDir, folder.replace(/[^A-Za-z0-9_-]/g, '_'));
  if (existsSync(binary)) return { binary, cached: true, ms: Date.now() - started };

  // Build in a private module folder, then move the finished folder into place in one rename, so
  // two concurrent runs never see a half-written binary.
  const work = join(buildCacheDir, `tmp-${key}-${process.pid}-${Date.now()}`);
  mkdirSync(work, { recursive: true });
  try {
    for (const f of srcFiles) {
      if (!f.endsWith('.go')) continue;
      const dest = join(work, relative(srcDir, f));
      mkdirSync(resolve(dest, '..'), { recursive: true });
      copyFileSync(f, dest);
    }
    writeFileSync(join(work, 'go.mod'), goModText(folder, peerPath));
    // The peer's go.sum pins the checksums of the dependencies it was released with.
    const peerSum = join(peerPath, 'go.sum');
    if (existsSync(peerSum)) copyFileSync(peerSum, join(work, 'go.sum'));
    log(`interop: building interop/${folder} with ${version} (first run downloads Go modules; cached afterwards)`);
    const r = spawnSync('go', ['build', '-o', join(work, 'bin'), '.'], { cwd: work, env, encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(
        `go build of interop/${folder} failed (exit ${r.status ?? r.signal}):\n${(r.stderr || r.stdout || String(r.error)).trim()}`,
      );
    }
    const staged = join(work, 'out');
    mkdirSync(staged);
    renameSync(join(work, 'bin'), join(staged, binary.slice(outDir.length + 1)));
    mkdirSync(buildCacheDir, { recursive: true });
    try {
      renameSync(staged, outDir);
    } catch (error) {
      // Another run finished the same build first: its binary is identical.
      if (!existsSync(binary)) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { binary, cached: false, ms: Date.now() - started };
}
