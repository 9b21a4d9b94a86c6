/**
 * Issue 6 item 8: what an app ships. The client (public entry `src/index.ts` with the database
 * worker it spawns) is built by Vite in production mode (minified, es2022) and every JavaScript
 * file the browser loads is gzipped (level 9) and summed, without the SQLite wasm. The wasm is
 * reported on its own. Baseline for the JavaScript: the bare @sqlite.org/sqlite-wasm module built
 * the same way (what any sqlite-wasm app ships before a line of its own code).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import type { BenchGroup } from '../lib/context.ts';
import { measured } from '../lib/metrics.ts';
import { bindingSizeMetricNames, measureBindingSizes } from './binding-size.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Files the sqlite-wasm package emits for its own worker APIs; oversqlite never loads them. */
const UNUSED = /sqlite3-worker1|sqlite3-opfs-async-proxy/;

interface Built { jsFiles: Array<{ file: string; bytes: number; gzip: number }>; wasm: { bytes: number; gzip: number } | undefined; unused: string[] }

async function buildEntry(entry: string): Promise<Built> {
  const outDir = mkdtempSync(join(tmpdir(), 'oversqlite-size-'));
  try {
    await build({
      configFile: false, root: repo, logLevel: 'silent',
      worker: { format: 'es' },
      build: {
        outDir, emptyOutDir: true, write: true, minify: true, target: 'es2022', sourcemap: false, copyPublicDir: false,
        // Not lib mode: lib mode inlines every asset (the wasm would land in the worker as base64).
        assetsInlineLimit: 0, modulePreload: false,
        rollupOptions: { input: entry, preserveEntrySignatures: 'exports-only' },
      },
    });
    const files = walk(outDir);
    const jsFiles = files.filter((f) => /\.(m?js)$/.test(f) && !UNUSED.test(f)).map((f) => {
      const data = readFileSync(f);
      return { file: f.slice(outDir.length + 1), bytes: data.length, gzip: gzipSync(data, { level: 9 }).length };
    });
    const wasmFile = files.find((f) => f.endsWith('.wasm'));
    const wasm = wasmFile ? { bytes: statSync(wasmFile).size, gzip: gzipSync(readFileSync(wasmFile), { level: 9 }).length } : undefined;
    return { jsFiles, wasm, unused: files.filter((f) => UNUSED.test(f)).map((f) => f.slice(outDir.length + 1)) };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export const sizeGroup: BenchGroup = {
  name: 'size',
  title: 'client JavaScript (minified + gzip) without the wasm, and the wasm',
  metrics() {
    return [
      { metric: 'size.client_js.min_gzip', unit: 'KiB' }, { metric: 'size.client_js.min', unit: 'KiB' },
      { metric: 'size.wasm.gzip', unit: 'KiB' }, { metric: 'size.wasm.raw', unit: 'KiB' },
      ...bindingSizeMetricNames(),
    ];
  },
  async run(ctx) {
    const client = await buildEntry(join(repo, 'src/index.ts'));
    const bare = await buildEntry(fileURLToPath(import.meta.resolve('@sqlite.org/sqlite-wasm')));
    for (const f of client.jsFiles) ctx.log(`${f.file}: ${(f.bytes / 1024).toFixed(1)} KiB min, ${(f.gzip / 1024).toFixed(1)} KiB gzip`);
    if (client.unused.length) ctx.log(`not counted (emitted by sqlite-wasm, never loaded): ${client.unused.join(', ')}`);
    const wasm = client.wasm ?? bare.wasm;
    if (!wasm) throw new Error('no .wasm in the build output');
    const kib = (n: number) => n / 1024;
    const files = client.jsFiles.map((f) => f.file).join(' + ');
    return [
      measured('size', 'size.client_js.min_gzip', 'KiB', kib(sum(client.jsFiles.map((f) => f.gzip))), kib(sum(bare.jsFiles.map((f) => f.gzip))),
        `vite build (minified, es2022) of src/index.ts and its worker (${files}), gzip -9, wasm excluded; baseline = bare @sqlite.org/sqlite-wasm JS built the same way`),
      measured('size', 'size.client_js.min', 'KiB', kib(sum(client.jsFiles.map((f) => f.bytes))), kib(sum(bare.jsFiles.map((f) => f.bytes))),
        'same files, minified, not compressed'),
      measured('size', 'size.wasm.gzip', 'KiB', kib(wasm.gzip), null, 'sqlite3.wasm from @sqlite.org/sqlite-wasm 3.54.1-build1, gzip -9'),
      measured('size', 'size.wasm.raw', 'KiB', kib(wasm.bytes), null, 'sqlite3.wasm uncompressed'),
      ...await measureBindingSizes((line) => ctx.log(line)),
    ];
  },
};
