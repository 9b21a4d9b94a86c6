// The layering of the tree: `protocol/` is a leaf (imports nothing outside itself, no package);
// `worker/` imports only itself and `protocol/` (never `src/` or `server/`, nor a `node:` module:
// it runs in a browser worker); `server/` imports only itself and `protocol/`; `src/` never
// imports `server/`. Imports are read from the source text (static, re-export, dynamic and
// side-effect forms); the cases below show the scan sees each form.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const LAYERS = ['protocol', 'worker', 'server', 'src'] as const;
type Layer = (typeof LAYERS)[number];

/** Layers each layer may import (relative imports), and whether it may import packages / `node:` modules. */
const RULES: Record<Layer, { layers: readonly Layer[]; packages: boolean; node: boolean }> = {
  protocol: { layers: ['protocol'], packages: false, node: false },
  worker: { layers: ['worker', 'protocol'], packages: true, node: false },
  server: { layers: ['server', 'protocol'], packages: true, node: true },
  src: { layers: ['src', 'worker', 'protocol'], packages: true, node: false },
};

const IMPORT_FORMS = [
  /(?:^|[\s;}])(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g,
];

/** Module specifiers a source file imports (comments skipped: examples in TSDoc are not imports). */
function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return IMPORT_FORMS.flatMap((re) => [...code.matchAll(re)].map((m) => m[1]!));
}

/** The rule a file's import breaks, or null. `file` is relative to the repository root. */
function violation(file: string, spec: string): string | null {
  const layer = file.split('/')[0] as Layer;
  const rule = RULES[layer];
  if (spec.startsWith('.')) {
    const target = relative(root, resolve(root, dirname(file), spec)).split(/[\\/]/)[0]!;
    return (rule.layers as readonly string[]).includes(target) ? null : `${layer}/ imports ${target}/`;
  }
  if (spec.startsWith('node:')) return rule.node ? null : `${layer}/ imports a node: module`;
  return rule.packages ? null : `${layer}/ imports a package`;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.(ts|mts|tsx|vue)$/.test(name)) out.push(path);
  }
  return out;
}

it('every import of protocol/, worker/, server/ and src/ keeps to its layer', () => {
  const broken: string[] = [];
  for (const layer of LAYERS) {
    for (const path of sourceFiles(join(root, layer))) {
      const file = relative(root, path).split('\\').join('/');
      for (const spec of importsOf(readFileSync(path, 'utf8'))) {
        const why = violation(file, spec);
        if (why) broken.push(`${file}: '${spec}' (${why})`);
      }
    }
  }
  expect(broken).toEqual([]);
});

describe('the scan flags', () => {
  const cases: Array<[string, string]> = [
    ['worker/engine/x.ts', "import { Oversqlite } from '../../src/index.ts';"],
    ['worker/engine/x.ts', "export { createSyncServer } from '../../server/index.ts';"],
    ['worker/engine/x.ts', "const m = await import('../../server/runtime/layout.ts');"],
    ['worker/engine/x.ts', "import { randomUUID } from 'node:crypto';"],
    ['server/runtime/x.ts', "import type { SyncEngine } from '../../worker/engine/index.ts';"],
    ['server/runtime/x.ts', "import '../../src/index.ts';"],
    ['protocol/x.ts', "import { z } from 'zod';"],
    ['protocol/x.ts', "import { quoteIdent } from '../server/runtime/catalog.ts';"],
    ['src/x.ts', "import {\n  createSyncServer,\n} from '../server/index.ts';"],
  ];
  for (const [file, line] of cases) {
    it(`${file}: ${line.replace(/\s+/g, ' ')}`, () => {
      const specs = importsOf(line);
      expect(specs).toHaveLength(1);
      expect(violation(file, specs[0]!)).not.toBeNull();
    });
  }
  it('but not an import inside a comment', () => {
    expect(importsOf("/**\n * import { x } from '../../server/index.ts';\n */\n// import '../../src/a.ts';")).toEqual([]);
  });
});
