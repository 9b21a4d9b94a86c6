/**
 * Issue 12 item 6: what each framework binding adds to the main-thread entry, and proof that none
 * of it reaches the database worker. For each binding, Vite builds (production, minified, es2022)
 * an entry exporting everything of `oversqlite` plus the binding, with the framework itself
 * external (the app ships it anyway); the main-thread JavaScript (every chunk but the worker's) is
 * compared, gzip -9 and brotli q11, with the same build of `oversqlite` alone. The worker chunk
 * must come out byte-identical, or the group fails.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'vite';
import { measured } from '../lib/metrics.ts';
import type { Metric } from '../lib/metrics.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** The bindings and the packages an app brings for each (kept out of the measured bundle). */
const BINDINGS = [
  { name: 'react', module: 'src/react/index.ts' },
  { name: 'vue', module: 'src/vue/index.ts' },
  { name: 'drizzle', module: 'src/drizzle/index.ts' },
  { name: 'kysely', module: 'src/kysely/index.ts' },
] as const;
const FRAMEWORKS = [/^react($|\/)/, /^react-dom($|\/)/, /^vue($|\/)/, /^drizzle-orm($|\/)/, /^kysely($|\/)/];

interface Sizes {
  main: { gzip: number; brotli: number; files: string[] };
  worker: string;
}

async function buildMain(exportsFrom: readonly string[]): Promise<Sizes> {
  const dir = mkdtempSync(join(tmpdir(), 'oversqlite-binding-size-'));
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, exportsFrom.map((m) => `export * from ${JSON.stringify(join(repo, m))};`).join('\n'));
    const outDir = join(dir, 'out');
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
        assetsInlineLimit: 0,
        modulePreload: false,
        rollupOptions: { input: entry, external: FRAMEWORKS, preserveEntrySignatures: 'exports-only' },
      },
    });
    const files = readdirSync(join(outDir, 'assets')).filter((f) => f.endsWith('.js'));
    const worker = files
      .filter((f) => /^worker-entry-/.test(f))
      .map((f) => readFileSync(join(outDir, 'assets', f), 'utf8'))
      .join('\n');
    const main = files.filter((f) => !/^worker-entry-|sqlite3-worker1|sqlite3-opfs-async-proxy/.test(f));
    const data = Buffer.concat(main.map((f) => readFileSync(join(outDir, 'assets', f))));
    // Compressed as one stream is close to what the separate files cost; for one file it is exact.
    return {
      main: {
        gzip: gzipSync(data, { level: 9 }).length,
        brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
        files: main,
      },
      worker,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Metric names, for the group's listing. */
export function bindingSizeMetricNames(): Array<{ metric: string; unit: string }> {
  return BINDINGS.flatMap((b) => [
    { metric: `size.binding.${b.name}.main_gzip_added`, unit: 'KiB' },
    { metric: `size.binding.${b.name}.main_brotli_added`, unit: 'KiB' },
  ]);
}

/** Measures every binding; throws when a binding changes the worker chunk. */
export async function measureBindingSizes(log: (line: string) => void): Promise<Metric[]> {
  const base = await buildMain(['src/index.ts']);
  const kib = (n: number) => n / 1024;
  const metrics: Metric[] = [];
  for (const binding of BINDINGS) {
    const withBinding = await buildMain(['src/index.ts', binding.module]);
    if (withBinding.worker !== base.worker)
      throw new Error(`oversqlite/${binding.name} changed the database worker chunk: binding code reached the worker`);
    const gzip = withBinding.main.gzip - base.main.gzip;
    const brotli = withBinding.main.brotli - base.main.brotli;
    log(
      `oversqlite/${binding.name}: +${kib(gzip).toFixed(2)} KiB gzip, +${kib(brotli).toFixed(2)} KiB brotli on the main thread; worker chunk unchanged`,
    );
    const note = `vite build of oversqlite + oversqlite/${binding.name} (framework external) minus oversqlite alone, main-thread JS (${withBinding.main.files.length} file(s)); baseline = oversqlite's main-thread JS alone; worker chunk byte-identical`;
    metrics.push(
      measured('size', `size.binding.${binding.name}.main_gzip_added`, 'KiB', kib(gzip), kib(base.main.gzip), `${note}; gzip -9`),
      measured('size', `size.binding.${binding.name}.main_brotli_added`, 'KiB', kib(brotli), kib(base.main.brotli), `${note}; brotli q11`),
    );
  }
  return metrics;
}
