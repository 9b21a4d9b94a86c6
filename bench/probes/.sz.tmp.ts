import { brotliCompressSync, constants } from 'node:zlib';
import { build } from 'vite';
const root = process.cwd();
const out = await build({ configFile: false, root, logLevel: 'silent', build: { write: false, minify: true, target: 'es2022',
  rollupOptions: { input: `${root}/worker/worker-entry.ts`, preserveEntrySignatures: 'exports-only', external: [/^@sqlite\.org\/sqlite-wasm($|\/)/] } } });
let code=''; for (const o of (Array.isArray(out)?out:[out])) if ('output' in o) for (const c of o.output) if (c.type==='chunk') code+=c.code;
console.log(brotliCompressSync(Buffer.from(code), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length, code.length);
