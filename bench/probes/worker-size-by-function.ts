/**
 * Probe of what each top-level function, class or constant costs in the worker's own code (issue
 * 16 item 6; not part of `npm run bench`). `worker-size-breakdown.ts` gives the same marginal cost
 * per module; this one goes a level down, to find the declarations worth reading first.
 *
 *   node --import tsx bench/probes/worker-size-by-function.ts [top=150] [minChars=250]
 *
 * Method: the worker entry built by Vite unminified (as the `size` group builds it, with
 * @sqlite.org/sqlite-wasm external), parsed, and for each top-level statement of at least
 * `minChars` characters: the brotli q11 size of the whole minified by Oxc (mangled, not
 * compressed) minus that of the whole without the statement. Marginal bytes, so text repeated
 * elsewhere in the bundle counts little; about ±30 B of brotli noise. ~1 minute.
 */
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';
import { minifySync, parseSync } from 'rolldown/utils';
import { build } from 'vite';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const top = Number(process.argv[2] ?? 150);
const minChars = Number(process.argv[3] ?? 250);

const brotli = (code: string): number => brotliCompressSync(Buffer.from(code), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const minified = (code: string): string =>
  minifySync('worker.js', code, { module: true, compress: false, mangle: { toplevel: true } }).code;

const out = await build({
  configFile: false,
  root: repo,
  logLevel: 'silent',
  build: {
    write: false,
    minify: false,
    target: 'es2022',
    rollupOptions: {
      input: `${repo}worker/worker-entry.ts`,
      preserveEntrySignatures: 'exports-only',
      external: [/^@sqlite\.org\/sqlite-wasm($|\/)/],
    },
  },
});
let src = '';
for (const o of Array.isArray(out) ? out : [out]) if ('output' in o) for (const c of o.output) if (c.type === 'chunk') src += c.code;

interface Node {
  type: string;
  start: number;
  end: number;
  id?: { name?: string } | null;
  declarations?: { id: { name?: string } }[];
}
const body = (parseSync('worker.js', src).program as unknown as { body: Node[] }).body;
// Rolldown marks each module's code with a `// <path>` line.
const marks = [...src.matchAll(/^\/\/ (\S+\.(?:ts|mjs|js))$/gm)].map((m) => ({ at: m.index, path: m[1]! }));
const whole = brotli(minified(src));
const rows: { name: string; bytes: number; chars: number }[] = [];
for (const st of body) {
  if (st.end - st.start < minChars) continue;
  const path =
    marks
      .filter((m) => m.at <= st.start)
      .pop()
      ?.path.replace(/^.*node_modules\//, '') ?? '';
  const name =
    st.id?.name ?? st.declarations?.map((d) => d.id.name ?? '?').join(',') ?? src.slice(st.start, st.start + 40).replace(/\s+/g, ' ');
  rows.push({
    name: `${path} ${name}`,
    bytes: whole - brotli(minified(src.slice(0, st.start) + src.slice(st.end))),
    chars: st.end - st.start,
  });
}
rows.sort((a, b) => b.bytes - a.bytes);
console.log(`worker's own code as Oxc minifies it: ${whole} B brotli q11`);
console.log('marginal brotli bytes, unminified characters, declaration:');
for (const r of rows.slice(0, top)) console.log(`${String(r.bytes).padStart(6)} ${String(r.chars).padStart(6)}  ${r.name}`);
