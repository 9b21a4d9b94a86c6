#!/usr/bin/env node
// `npm run build` (also `prepack`): compiles protocol/, server/, worker/ and src/ into dist/ as ESM
// JavaScript + declarations, so the package runs in plain Node and in any bundler without tsx.
//
// tsc (tsconfig.build.json) does the compiling and rewrites `./x.ts` imports to `./x.js` in the
// JavaScript. Three things it leaves to this script:
//  - `new URL('./x.ts', import.meta.url)` (the worker entry): not an import, so not rewritten; a
//    bundler must find the emitted `.js` file there.
//  - declarations keep `./x.ts` specifiers; `.js` ones resolve to the `.d.ts` files under every
//    moduleResolution a consumer may use (and in TypeScript before 5.0).
//  - non-TypeScript files read at run time (server/reference/schema.sql).
// Only dist/{protocol,server,worker,src} are replaced: dist/demo belongs to the demo build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const packageDirs = ['protocol', 'server', 'worker', 'src'];
const assets = ['server/reference/schema.sql'];

for (const dir of packageDirs) rmSync(join(dist, dir), { recursive: true, force: true });

// typescript's bin, run with this node: no npx lookup, and the repo's pinned compiler.
const tscBin = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const tsc = spawnSync(process.execPath, [tscBin, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (tsc.status !== 0) fail(`tsc exited with ${tsc.status ?? tsc.signal}`);

for (const asset of assets) {
  mkdirSync(dirname(join(dist, asset)), { recursive: true });
  copyFileSync(join(root, asset), join(dist, asset));
}

/** Relative specifier ending in `.ts` (not `.d.ts`), quoted. */
const RELATIVE_TS = /(['"])(\.\.?\/[^'"\n]*?)(?<!\.d)\.ts\1/g;
/** `new URL('<relative>.ts', import.meta.url)` */
const URL_OF_TS = /new URL\((['"])(\.\.?\/[^'"\n]*?)(?<!\.d)\.ts\1(\s*,\s*import\.meta\.url\s*\))/g;
/** Import-like positions in declarations: `from '…'`, `import '…'`, `import('…')`. */
const DECLARATION_SPECIFIER = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"\n]*?)(?<!\.d)\.ts\2/g;

let urlRewrites = 0;
const leftovers = [];
for (const file of walk(dist)) {
  if (!packageDirs.some((dir) => file.startsWith(join(dist, dir) + '/'))) continue;
  const isDeclaration = file.endsWith('.d.ts');
  if (!isDeclaration && !file.endsWith('.js')) continue;
  const before = readFileSync(file, 'utf8');
  let after;
  if (isDeclaration) {
    after = before.replace(DECLARATION_SPECIFIER, (_m, lead, q, path) => `${lead}${q}${path}.js${q}`);
  } else {
    after = before.replace(URL_OF_TS, (match, q, path, tail) => {
      const target = resolve(dirname(file), `${path}.js`);
      // Only when the compiled target exists: a URL to anything else is left for the check below.
      if (!existsSync(target)) return match;
      urlRewrites++;
      return `new URL(${q}${path}.js${q}${tail}`;
    });
  }
  if (after !== before) writeFileSync(file, after);
  // Any relative `.ts` specifier left would fail at run time (JS) or for older consumers (d.ts).
  const code = after.replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
  for (const m of code.matchAll(RELATIVE_TS)) leftovers.push(`${relative(root, file)}: ${m[0]}`);
}
if (leftovers.length > 0) fail(`relative .ts specifiers left in dist:\n  ${leftovers.join('\n  ')}`);
// The worker URL in src/worker-backend.ts is the one the client cannot work without.
if (urlRewrites === 0) fail('no `new URL(…ts, import.meta.url)` was rewritten: where did the worker entry go?');
console.log(`built ${packageDirs.map((d) => `dist/${d}`).join(', ')} (${urlRewrites} worker URL rewritten)`);

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

function fail(message) {
  console.error(`build failed: ${message}`);
  process.exit(1);
}
