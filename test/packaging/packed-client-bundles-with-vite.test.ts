// A Vite app that imports `openDatabase` from the packed `oversqlite` builds, and the build holds
// what the client needs at run time: the database worker as its own chunk (from the
// `new URL('../worker/worker-entry.js', import.meta.url)` in dist/src/worker-backend.js), loaded by
// the app's chunk, and sqlite-wasm's .wasm as an asset the worker chunk points at. Both with
// Vite's default worker format and with `worker.format: 'es'`. (Running it is the e2e suite's job.)
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanEnv, packAndInstall } from './packed-package.ts';
import type { PackedProject } from './packed-package.ts';

const MAIN = `
import { openDatabase } from 'oversqlite';

const db = await openDatabase({
  name: 'notes',
  schema: { version: 1, migrations: ['CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT)'] },
});
document.body.textContent = JSON.stringify(await db.query('SELECT count(*) AS n FROM notes'));
`;

let packed: PackedProject;

beforeAll(() => {
  packed = packAndInstall('vite', ['vite']);
  writeFileSync(join(packed.projectDir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  writeFileSync(
    join(packed.projectDir, 'index.html'),
    '<!doctype html>\n<html><body><script type="module" src="./main.js"></script></body></html>\n',
  );
  writeFileSync(join(packed.projectDir, 'main.js'), MAIN);
}, 120_000);

afterAll(() => packed?.dispose());

/** Runs `vite build` with `config` as vite.config.js; returns the emitted asset file names. */
function viteBuild(name: string, config: string): { dir: string; assets: string[] } {
  const configFile = `vite.${name}.config.js`;
  writeFileSync(join(packed.projectDir, configFile), config);
  const outDir = `out-${name}`;
  try {
    execFileSync(
      process.execPath,
      [
        join(packed.projectDir, 'node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        configFile,
        '--outDir',
        outDir,
        '--logLevel',
        'warn',
      ],
      {
        cwd: packed.projectDir,
        env: cleanEnv(),
        encoding: 'utf8',
        stdio: 'pipe',
      },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`vite build (${name}) failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  const dir = join(packed.projectDir, outDir, 'assets');
  return { dir, assets: readdirSync(dir) };
}

function expectWorkerAndWasm(dir: string, assets: string[], app = assets.find((f) => /^index-.*\.js$/.test(f))): void {
  const worker = assets.find((f) => /^worker-entry-.*\.js$/.test(f));
  const wasm = assets.find((f) => /^sqlite3-.*\.wasm$/.test(f));
  expect({ worker, wasm, app }).toEqual({ worker: expect.any(String), wasm: expect.any(String), app: expect.any(String) });
  // The app chunk spawns the worker chunk; the worker chunk fetches the wasm.
  expect(readFileSync(join(dir, app!), 'utf8')).toContain(worker!);
  expect(readFileSync(join(dir, worker!), 'utf8')).toContain(wasm!);
  // A real WebAssembly module, not a pointer or an empty file.
  expect([...readFileSync(join(dir, wasm!)).subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]);
  // Nothing unbuilt leaked into the bundle.
  expect(readFileSync(join(dir, app!), 'utf8')).not.toMatch(/worker-entry\.ts/);
}

it('builds with the default Vite config: worker chunk + sqlite3 wasm asset', () => {
  const { dir, assets } = viteBuild('default', 'export default {};\n');
  expectWorkerAndWasm(dir, assets);
}, 60_000);

it("builds with worker.format 'es' (module worker chunks)", () => {
  const { dir, assets } = viteBuild('es', "export default { worker: { format: 'es' } };\n");
  expectWorkerAndWasm(dir, assets);
}, 60_000);

// An app that bundles the worker itself passes `createWorker`; the `oversqlite/worker-entry`
// export is what it points Vite's `?worker` import at.
it('builds an app-supplied worker from the oversqlite/worker-entry export', () => {
  writeFileSync(
    join(packed.projectDir, 'own-worker.js'),
    `import { openDatabase } from 'oversqlite';
import OversqliteWorker from 'oversqlite/worker-entry?worker';

const db = await openDatabase({
  name: 'notes',
  schema: { version: 1, migrations: ['CREATE TABLE notes (id TEXT PRIMARY KEY)'] },
  createWorker: (name) => new OversqliteWorker({ name }),
});
document.body.textContent = JSON.stringify(await db.query('SELECT 1 AS one'));
`,
  );
  const { dir, assets } = viteBuild('own-worker', "export default { build: { rolldownOptions: { input: 'own-worker.js' } } };\n");
  expectWorkerAndWasm(
    dir,
    assets,
    assets.find((f) => /^own-worker-.*\.js$/.test(f)),
  );
}, 60_000);
