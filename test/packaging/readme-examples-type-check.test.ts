// The README's TypeScript examples compile against the library: every ```ts / ```tsx block is
// type-checked by tsc, with the project's own compiler options (strict), in a scratch project
// where `oversqlite` and its subpaths resolve to the sources package.json exports them from
// (packed-exports-match-sources.test.ts holds the packed files to those sources). A renamed
// option or a changed signature fails here before a user copies the quick start. The app's own
// functions a snippet calls (`render`, `badge`) are the only names declared for it. The README's
// examples are whole programs; those in docs/ are fragments (they use a `db` opened elsewhere) and
// are not checked.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT, cleanEnv } from './packed-package.ts';

/** One fenced TypeScript block of the README, with the README line its code starts on. */
interface Example {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

function readmeExamples(readme: string): Example[] {
  const examples: Example[] = [];
  for (const match of readme.matchAll(/^```(ts|tsx)\n([\s\S]*?)^```/gm)) {
    const line = readme.slice(0, match.index).split('\n').length + 1;
    examples.push({ file: `example-${line}.${match[1]}`, line, code: match[2]! });
  }
  return examples;
}

/** `oversqlite/...` → the source file whose build package.json exports under that name. */
function sourcePaths(): Record<string, string[]> {
  const exports = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).exports as Record<string, string | { types: string }>;
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(exports)) {
    if (typeof target === 'string') continue;
    paths[`oversqlite${subpath.slice(1)}`] = [join(REPO_ROOT, target.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts'))];
  }
  return paths;
}

/** What the examples leave to the app. */
const APP_DECLARATIONS = `declare function render(rows: readonly unknown[]): void;
declare function badge(pendingCount: number | undefined, phase: string | undefined): void;
`;

it('every TypeScript example in the README compiles against the library', () => {
  const examples = readmeExamples(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
  expect(examples.length).toBeGreaterThanOrEqual(6); // client, server, React, Vue, Drizzle, Kysely

  const dir = mkdtempSync(join(tmpdir(), 'oversqlite-readme-'));
  try {
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    for (const example of examples) writeFileSync(join(dir, example.file), example.code);
    writeFileSync(join(dir, 'app.d.ts'), APP_DECLARATIONS);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(REPO_ROOT, 'tsconfig.json'),
        // Each example is a module of its own (top-level await, its own `db`).
        compilerOptions: { jsx: 'react-jsx', moduleDetection: 'force', paths: sourcePaths() },
        include: [],
        files: ['app.d.ts', ...examples.map((e) => e.file)],
      }),
    );
    let output = '';
    try {
      execFileSync(
        process.execPath,
        [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--pretty', 'false'],
        {
          cwd: dir,
          env: cleanEnv(),
          encoding: 'utf8',
        },
      );
    } catch (err) {
      output = (err as { stdout?: string }).stdout ?? String(err);
    }
    // Each error as the README line it is on.
    const errors = output
      .split('\n')
      .filter((line) => /error TS\d+/.test(line))
      .map((line) => {
        const at = /^example-(\d+)\.tsx?\((\d+),\d+\): (.*)$/.exec(line);
        return at === null ? line : `README.md:${Number(at[1]) + Number(at[2]) - 1}: ${at[3]}`;
      });
    expect(errors).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
