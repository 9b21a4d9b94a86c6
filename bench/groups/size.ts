/**
 * Issue 6 item 8 and issue 16 item 6: what an app ships. The client (public entry `src/index.ts` with the database
 * worker it spawns) is built by Vite in production mode (minified, es2022) and every JavaScript
 * file the browser loads is gzipped (level 9) and summed, without the SQLite wasm. The wasm is
 * reported on its own. Baseline for the JavaScript: the bare @sqlite.org/sqlite-wasm module built
 * the same way (what any sqlite-wasm app ships before a line of its own code).
 *
 * Then each part on its own, gzip -9 and brotli q11 (what a CDN serves): the main-thread entry
 * (every file the page loads but the worker's), the worker's own code (the worker entry built with
 * @sqlite.org/sqlite-wasm external, so neither its JS glue nor its wasm is counted), the sqlite-wasm
 * glue (the bare package built the same way) and the wasm. Goals (issue 16): main-thread entry
 * <= 15 KB brotli, worker's own code <= 40 KB brotli.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'vite';
import type { BenchGroup } from '../lib/context.ts';
import { measured } from '../lib/metrics.ts';
import { bindingSizeMetricNames, measureBindingSizes } from './binding-size.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Files the sqlite-wasm package emits for its own worker APIs; oversqlite never loads them. */
const UNUSED = /sqlite3-worker1|sqlite3-opfs-async-proxy/;

interface Sized {
  file: string;
  bytes: number;
  gzip: number;
  brotli: number;
}
interface Built {
  jsFiles: Sized[];
  wasm: Sized | undefined;
  unused: string[];
}

function sized(file: string, data: Buffer): Sized {
  return {
    file,
    bytes: data.length,
    gzip: gzipSync(data, { level: 9 }).length,
    brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** The sqlite-wasm package (its JS glue and the wasm it loads). */
const SQLITE_WASM = /^@sqlite\.org\/sqlite-wasm($|\/)/;

async function buildEntry(entry: string, external: RegExp[] = []): Promise<Built> {
  const outDir = mkdtempSync(join(tmpdir(), 'oversqlite-size-'));
  try {
    await build({
      configFile: false,
      root: repo,
      logLevel: 'silent',
      worker: { format: 'es' },
      build: {
        outDir,
        emptyOutDir: true,
        write: true,
        minify: true,
        target: 'es2022',
        sourcemap: false,
        copyPublicDir: false,
        // Not lib mode: lib mode inlines every asset (the wasm would land in the worker as base64).
        assetsInlineLimit: 0,
        modulePreload: false,
        rollupOptions: { input: entry, preserveEntrySignatures: 'exports-only', external },
      },
    });
    const files = walk(outDir);
    const jsFiles = files
      .filter((f) => /\.(m?js)$/.test(f) && !UNUSED.test(f))
      .map((f) => sized(f.slice(outDir.length + 1), readFileSync(f)));
    const wasmFile = files.find((f) => f.endsWith('.wasm'));
    const wasm = wasmFile ? sized(wasmFile.slice(outDir.length + 1), readFileSync(wasmFile)) : undefined;
    return { jsFiles, wasm, unused: files.filter((f) => UNUSED.test(f)).map((f) => f.slice(outDir.length + 1)) };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const PARTS = ['main_entry', 'worker_own', 'sqlite_glue'] as const;

/** Goals of issue 16 item 6, in KB (1,000 bytes) brotli. */
const GOAL_KB: Partial<Record<(typeof PARTS)[number], number>> = { main_entry: 15, worker_own: 40 };

export const sizeGroup: BenchGroup = {
  name: 'size',
  title: 'client JavaScript (minified + gzip) without the wasm, and the wasm',
  metrics() {
    return [
      { metric: 'size.client_js.min_gzip', unit: 'KiB' },
      { metric: 'size.client_js.min', unit: 'KiB' },
      { metric: 'size.wasm.gzip', unit: 'KiB' },
      { metric: 'size.wasm.raw', unit: 'KiB' },
      ...PARTS.flatMap((p) => [
        { metric: `size.${p}.gzip`, unit: 'KiB' },
        { metric: `size.${p}.brotli`, unit: 'KiB' },
      ]),
      { metric: 'size.wasm.brotli', unit: 'KiB' },
      ...bindingSizeMetricNames(),
    ];
  },
  async run(ctx) {
    const client = await buildEntry(join(repo, 'src/index.ts'));
    const bare = await buildEntry(fileURLToPath(import.meta.resolve('@sqlite.org/sqlite-wasm')));
    const workerOwn = await buildEntry(join(repo, 'worker/worker-entry.ts'), [SQLITE_WASM]);
    if (workerOwn.wasm || workerOwn.jsFiles.length !== 1)
      throw new Error(
        `worker build with sqlite-wasm external emitted ${workerOwn.jsFiles.length} JS file(s)${workerOwn.wasm ? ' and a wasm' : ''}: sqlite-wasm not kept out`,
      );
    const mainFiles = client.jsFiles.filter((f) => !/(^|\/)worker-entry-/.test(f.file));
    const parts: Record<(typeof PARTS)[number], { files: Sized[]; what: string }> = {
      main_entry: {
        files: mainFiles,
        what: `main-thread entry: vite build of src/index.ts, every JS file the page loads but the worker's (${mainFiles.map((f) => f.file).join(' + ')})`,
      },
      worker_own: {
        files: workerOwn.jsFiles,
        what: "the worker's own code: vite build of worker/worker-entry.ts with @sqlite.org/sqlite-wasm external (its glue and wasm not counted)",
      },
      sqlite_glue: {
        files: bare.jsFiles,
        what: "sqlite-wasm's JS glue: the bare @sqlite.org/sqlite-wasm module built the same way (wasm excluded)",
      },
    };
    for (const f of client.jsFiles) ctx.log(`${f.file}: ${(f.bytes / 1024).toFixed(1)} KiB min, ${(f.gzip / 1024).toFixed(1)} KiB gzip`);
    if (client.unused.length) ctx.log(`not counted (emitted by sqlite-wasm, never loaded): ${client.unused.join(', ')}`);
    const wasm = client.wasm ?? bare.wasm;
    if (!wasm) throw new Error('no .wasm in the build output');
    const kib = (n: number) => n / 1024;
    const files = client.jsFiles.map((f) => f.file).join(' + ');
    return [
      measured(
        'size',
        'size.client_js.min_gzip',
        'KiB',
        kib(sum(client.jsFiles.map((f) => f.gzip))),
        kib(sum(bare.jsFiles.map((f) => f.gzip))),
        `vite build (minified, es2022) of src/index.ts and its worker (${files}), gzip -9, wasm excluded; baseline = bare @sqlite.org/sqlite-wasm JS built the same way`,
      ),
      measured(
        'size',
        'size.client_js.min',
        'KiB',
        kib(sum(client.jsFiles.map((f) => f.bytes))),
        kib(sum(bare.jsFiles.map((f) => f.bytes))),
        'same files, minified, not compressed',
      ),
      measured('size', 'size.wasm.gzip', 'KiB', kib(wasm.gzip), null, 'sqlite3.wasm from @sqlite.org/sqlite-wasm 3.54.1-build1, gzip -9'),
      measured('size', 'size.wasm.raw', 'KiB', kib(wasm.bytes), null, 'sqlite3.wasm uncompressed'),
      ...PARTS.flatMap((p) => {
        const { files: fs, what } = parts[p];
        const goal = GOAL_KB[p];
        const brotli = sum(fs.map((f) => f.brotli));
        ctx.log(
          `${p}: ${(sum(fs.map((f) => f.bytes)) / 1024).toFixed(1)} KiB min, ${(sum(fs.map((f) => f.gzip)) / 1024).toFixed(1)} KiB gzip, ${(brotli / 1000).toFixed(1)} KB brotli${goal ? ` (goal <= ${goal} KB)` : ''}`,
        );
        const goalNote = goal
          ? `; goal <= ${goal} KB (${((goal * 1000) / 1024).toFixed(2)} KiB) brotli: ${brotli <= goal * 1000 ? 'met' : 'missed'}`
          : '';
        return [
          measured('size', `size.${p}.gzip`, 'KiB', kib(sum(fs.map((f) => f.gzip))), null, `${what}; gzip -9`),
          measured('size', `size.${p}.brotli`, 'KiB', kib(brotli), null, `${what}; brotli q11${goalNote}`),
        ];
      }),
      measured('size', 'size.wasm.brotli', 'KiB', kib(wasm.brotli), null, 'sqlite3.wasm, brotli q11'),
      ...(await measureBindingSizes((line) => ctx.log(line))),
    ];
  },
};
