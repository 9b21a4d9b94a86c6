// Every entry point of the packed package loads in plain `node` from dist/ and exports exactly the
// names its TypeScript source exports (a build that dropped or renamed an export fails here), and
// the `oversqlite/worker` database runs SQL on sqlite-wasm's Node build.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, cleanEnv, packAndInstall } from './packed-package.ts';
import type { PackedProject } from './packed-package.ts';

/** The browser worker script: it starts serving comlink on import, so it is not a module to list. */
const WORKER_SCRIPT = './worker-entry';

let packed: PackedProject;

beforeAll(() => {
  // The framework bindings (oversqlite/react, ...) import their framework: an app that uses one
  // installs it, as the optional peer dependency says.
  const { peerDependencies = {} } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    peerDependencies?: Record<string, string>;
  };
  packed = packAndInstall('exports', Object.keys(peerDependencies));
}, 120_000);

afterAll(() => packed?.dispose());

/** Runs an ES module snippet with plain node in the consumer project; returns its stdout. */
function node(source: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', source], {
    cwd: packed.projectDir,
    env: cleanEnv(),
    encoding: 'utf8',
  });
}

it('each export path resolves into dist/ and exports what its source exports', async () => {
  const { exports } = JSON.parse(readFileSync(join(packed.packageDir, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { default: string }>;
  };
  const subpaths = Object.keys(exports).filter((p) => p !== './package.json' && p !== WORKER_SCRIPT);
  expect(subpaths).toEqual(expect.arrayContaining(['.', './worker', './server', './protocol', './server/reference']));
  for (const subpath of subpaths) {
    const specifier = `oversqlite${subpath.slice(1)}`;
    const target = exports[subpath] as { default: string };
    const packedNames = JSON.parse(
      node(
        `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify({ url: import.meta.resolve(${JSON.stringify(specifier)}), names: Object.keys(m).sort() }));`,
      ),
    ) as { url: string; names: string[] };
    expect(packedNames.url).toBe(`file://${join(packed.packageDir, target.default)}`);
    // The same entry point's source, e.g. dist/server/index.js -> server/index.ts.
    const source = join(REPO_ROOT, target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'));
    const sourceNames = Object.keys((await import(source)) as object).sort();
    expect({ specifier, names: packedNames.names }).toEqual({ specifier, names: sourceNames });
  }
}, 60_000);

it('oversqlite/worker opens an in-memory database and runs SQL in plain node', () => {
  const out = node(`
    import { LocalDatabase } from 'oversqlite/worker';
    const db = await LocalDatabase.open({ name: 'packaging', storage: 'memory', schema: { version: 1, migrations: ['CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT)'] } });
    await db.write({ statements: [{ sql: 'INSERT INTO notes VALUES (?, ?)', params: ['a', 'hello'] }] });
    console.log(JSON.stringify(db.query('SELECT id, body FROM notes')));
    db.close();
  `);
  expect(JSON.parse(out)).toEqual({ ok: true, value: { rows: [{ id: 'a', body: 'hello' }], columns: ['id', 'body'] } });
}, 30_000);
