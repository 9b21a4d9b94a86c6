/**
 * Vite build plugin: after the build is written, lists every file of the output (app chunks, the
 * database worker, sqlite3.wasm, CSS, icons, manifest) and injects that list plus a version hash
 * into the service worker. Listing the directory instead of the bundle catches the files emitted
 * by the separate worker build (the wasm is one of them). A changed list changes sw.js, so the
 * browser installs the new worker and its new cache.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Plugin, ResolvedConfig } from 'vite';

/** The placeholder the service worker source carries; replaced by a JSON object. */
export const PRECACHE_PLACEHOLDER = '__PRECACHE_MANIFEST__';

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Injects the precache list into `serviceWorkerFile` (relative to the output directory). */
export function precacheServiceWorker(options: { serviceWorkerFile: string }): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'oversqlite-demo-precache',
    apply: 'build',
    configResolved(resolved) {
      config = resolved;
    },
    closeBundle() {
      const outDir = config.build.outDir;
      const swPath = join(outDir, options.serviceWorkerFile);
      const files = listFiles(outDir)
        .map((file) => relative(outDir, file).split(sep).join('/'))
        .filter((file) => file !== options.serviceWorkerFile && !file.endsWith('.map'))
        .sort();
      const hash = createHash('sha256');
      for (const file of files) hash.update(file).update(readFileSync(join(outDir, file)));
      // The app shell is requested as `./` by navigations; cache it under that URL too.
      const manifest = { version: hash.digest('hex').slice(0, 16), files: ['./', ...files] };
      const source = readFileSync(swPath, 'utf8');
      if (!source.includes(PRECACHE_PLACEHOLDER)) {
        throw new Error(`${options.serviceWorkerFile} does not contain ${PRECACHE_PLACEHOLDER}; cannot inject the precache list.`);
      }
      writeFileSync(swPath, source.replace(PRECACHE_PLACEHOLDER, JSON.stringify(manifest)));
    },
  };
}
