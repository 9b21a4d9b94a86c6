#!/usr/bin/env node
// `npm test`'s first step: no test or script may read a path outside the repository, so that a
// fresh clone needs nothing beside it. The one documented exception is the interop lane, which
// builds the go-oversync peers from their source (interop/, and .ci/run pointing
// OVERSQLITE_GO_OVERSYNC_DIR at it).
//
// A static scan of the source, because a run only proves the paths it happened to take. It flags:
// - any mention of a `shared/reference` folder, or of `oversqlite-contracts` outside the copies in
//   test/fixtures/ (the project's old habit: `../shared/reference/...` beside the clone);
// - relative path literals (`'../..'`, `new URL('../x', import.meta.url)`, `join(here, '..', '..')`)
//   that resolve above the repository root;
// - absolute paths into home or work folders (`/work/`, `/home/`, `/Users/`, `/root/`, `/mnt/`, `/srv/`).
// Comment lines are skipped: prose may name the upstream sources.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'test-results', 'playwright-report', '.pglite']);
const SKIP_PATHS = new Set(['e2e/output', 'bench/results', 'test/fixtures', 'docs']);
// The check and its own test spell out the patterns they look for.
const SELF = new Set(['scripts/outside-paths.mjs', 'test/packaging/no-reads-outside-the-repository.test.ts']);
const CODE = /\.(?:[cm]?[jt]s|tsx|sh)$/;

/** Files whose outside reads of the go-oversync source are the documented interop exception. */
function isInteropFile(rel) {
  return rel.startsWith('interop/') || rel === '.ci/run';
}

function listFiles(root, dir = root, out = []) {
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    const rel = relative(root, abs).split(sep).join('/');
    const st = statSync(abs, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) {
      if (!SKIP_DIRS.has(name) && !SKIP_PATHS.has(rel)) listFiles(root, abs, out);
    } else if (SELF.has(rel)) {
      continue;
    } else if (CODE.test(name) || rel === '.ci/run' || rel === 'package.json') {
      out.push(rel);
    }
  }
  return out;
}

function isComment(line) {
  const t = line.trim();
  return t.startsWith('//') || t.startsWith('*') || t.startsWith('/*') || (t.startsWith('#') && !t.startsWith('#!'));
}

function escapesRoot(root, from, relPath) {
  const target = resolve(from, relPath);
  return target !== root && !target.startsWith(root + sep);
}

/**
 * Findings for one file's text: `{ file, line, text, why }` per offending line.
 * @param {string} root absolute repository root
 * @param {string} rel file path relative to the root, `/`-separated
 * @param {string} text the file's content
 */
export function scanText(rootPath, rel, text) {
  const root = resolve(rootPath);
  const findings = [];
  const fileDir = dirname(join(root, rel));
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (isComment(line)) return;
    const whys = [];
    if (/shared[/\\]reference|['"`]shared['"`]\s*,\s*['"`]reference['"`]/.test(line))
      whys.push('reads the shared/reference folder beside the clone');
    if (/oversqlite-contracts/.test(line) && !/fixtures[/\\]oversqlite-contracts/.test(line))
      whys.push('reads contract fixtures outside test/fixtures/');
    if (/['"`](?:\/(?:work|home|Users|root|mnt|srv)\/|~\/)/.test(line)) whys.push('absolute path into a home or work folder');
    // Relative literals: resolved against the file's folder (imports, new URL(x, import.meta.url)).
    for (const m of line.matchAll(/(['"`])((?:\.\.\/)+(?:[^'"`$]*)|\.\.)\1?/g)) {
      if (escapesRoot(root, fileDir, m[2])) whys.push(`'${m[2]}' resolves outside the repository`);
    }
    // join(base, '..', '..', …): base is the repository root when so named, else the file's folder.
    for (const m of line.matchAll(/\b(?:join|resolve)\(\s*([\w$.]+)\s*,((?:\s*['"`]\.\.['"`]\s*,?)+)/g)) {
      const ups = (m[2].match(/\.\./g) ?? []).length;
      const base = /root/i.test(m[1]) ? root : fileDir;
      if (escapesRoot(root, base, Array(ups).fill('..').join('/')))
        whys.push(`join(${m[1]}, ${ups}× '..') resolves outside the repository`);
    }
    if (whys.length === 0) return;
    // The documented exception: the interop lane locating the go-oversync source.
    if (isInteropFile(rel)) {
      const near = lines.slice(Math.max(0, i - 2), i + 3).join('\n');
      if (/go-oversync|GO_OVERSYNC/.test(near) && !/oversqlite-contracts/.test(line)) return;
    }
    findings.push({ file: rel, line: i + 1, text: line.trim(), why: [...new Set(whys)].join('; ') });
  });
  return findings;
}

/** Scans every code file of the repository at `root`; returns the findings (empty when clean). */
export function findOutsideReads(root) {
  const abs = resolve(root);
  return listFiles(abs).flatMap((rel) => scanText(abs, rel, readFileSync(join(abs, rel), 'utf8')));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const findings = findOutsideReads(root);
  for (const f of findings) console.error(`${f.file}:${f.line}: ${f.why}\n    ${f.text}`);
  if (findings.length > 0) {
    console.error(
      `\n${findings.length} read(s) outside the repository. Copy the data into the repository (test/fixtures/) instead; only the interop lane may reach the go-oversync source.`,
    );
    process.exit(1);
  }
  console.log('self-contained: no test or script reads a path outside the repository (interop lane excepted)');
}
