/**
 * Probe of what each module costs in the worker's own code (issue 16 item 6; not part of
 * `npm run bench`). The bench `size` group measures the whole: the worker entry built by Vite with
 * @sqlite.org/sqlite-wasm external, minified, brotli q11. A module minified and compressed on its
 * own misleads: brotli codes text that repeats elsewhere in the bundle (SQL column lists, the
 * shapes of validation code) almost for free, so merging repeated code saves little and removing
 * unique text (messages, one-off logic) saves the most. This probe reports each module's marginal
 * cost instead: the brotli size of the bundle minus that of the bundle without the module's code.
 *
 *   node --import tsx bench/probes/worker-size-breakdown.ts [top=40]
 *
 * Method: the same Vite build unminified (Rolldown marks each module's code with a `// <path>`
 * line), minified as a whole by Oxc (mangled, not compressed, so no code is dropped as unused once
 * a module is cut out), then once per module without that module's code. The Oxc total differs a
 * little from Vite's (printed alongside); the deltas are comparable to each other, within about
 * ±30 B of brotli's block-splitting noise. A module Rolldown prints without its marker line is
 * counted with the module before it (today metadata.ts, inside statements.ts).
 */
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';
import { minifySync } from 'rolldown/utils';
import { build } from 'vite';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const top = Number(process.argv[2] ?? 40);

const brotli = (code: string): number => brotliCompressSync(Buffer.from(code), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

async function workerBundle(minify: boolean): Promise<string> {
  const out = await build({
    configFile: false,
    root: repo,
    logLevel: 'silent',
    build: {
      write: false,
      minify,
      target: 'es2022',
      rollupOptions: {
        input: `${repo}worker/worker-entry.ts`,
        preserveEntrySignatures: 'exports-only',
        external: [/^@sqlite\.org\/sqlite-wasm($|\/)/],
      },
    },
  });
  const outputs = Array.isArray(out) ? out : [out];
  let code = '';
  for (const o of outputs) if ('output' in o) for (const c of o.output) if (c.type === 'chunk') code += c.code;
  return code;
}

const minified = (code: string): string =>
  minifySync('worker.js', code, { module: true, compress: false, mangle: { toplevel: true } }).code;

const vite = brotli(await workerBundle(true));
const plain = await workerBundle(false);
// Each part starts at a `// <module path>` line (the first part: the imports before any module).
const parts = plain.split(/^(?=\/\/ \S+\.(?:ts|mjs|js)$)/m);
const whole = brotli(minified(plain));
const rows = parts.map((part, i) => ({
  module: part.slice(0, part.indexOf('\n')).replace(/^\/\/ (.*node_modules\/)?/, ''),
  bytes: whole - brotli(minified(parts.filter((_, j) => j !== i).join(''))),
}));
rows.sort((a, b) => b.bytes - a.bytes);
console.log(`worker's own code, brotli q11: ${vite} B as Vite minifies it, ${whole} B as Oxc does (mangled, not compressed)`);
console.log('marginal brotli bytes per module (the bundle with it minus without it):');
for (const r of rows.slice(0, top)) console.log(`${String(r.bytes).padStart(6)}  ${r.module}`);
console.log(`(${rows.length} parts; their marginal costs add up to ${rows.reduce((n, r) => n + r.bytes, 0)} B)`);
