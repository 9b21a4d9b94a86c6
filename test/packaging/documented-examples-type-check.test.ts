// The documentation's TypeScript examples compile against the library: every ```ts / ```tsx
// block of the README and of docs/client.md is type-checked by tsc, with the project's own
// compiler options (strict), in a scratch project where `oversqlite` and its subpaths resolve to
// the sources package.json exports them from (packed-exports-match-sources.test.ts holds the
// packed files to those sources). A renamed option or a changed signature fails here before a
// user copies an example. The README's examples are whole programs: only the app's own functions
// they call (`render`, `badge`, `notify`) are declared for them. docs/client.md's are fragments
// of one app, so the names they share (`db`, `schema`, `userId`, …) are declared for them, in a
// program of their own. docs/server.md's framework examples have their own snippet tests;
// docs/engine.md's and docs/demo.md's show internals and are not checked.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT, cleanEnv } from './packed-package.ts';

/** One fenced TypeScript block of a document, with the line its code starts on. */
interface Example {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

function examplesOf(document: string): Example[] {
  const text = readFileSync(join(REPO_ROOT, document), 'utf8');
  const examples: Example[] = [];
  for (const match of text.matchAll(/^```(ts|tsx)\n([\s\S]*?)^```/gm)) {
    const line = text.slice(0, match.index).split('\n').length + 1;
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

/**
 * Type-checks `examples` (each a module of its own) with `context` declared around them; returns
 * each error as `<document>:<line>: message`.
 */
function typeCheck(document: string, examples: readonly Example[], context: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'oversqlite-doc-examples-'));
  try {
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    for (const example of examples) writeFileSync(join(dir, example.file), example.code);
    writeFileSync(join(dir, 'context.d.ts'), context);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(REPO_ROOT, 'tsconfig.json'),
        compilerOptions: { jsx: 'react-jsx', moduleDetection: 'force', paths: sourcePaths() },
        include: [],
        files: ['context.d.ts', ...examples.map((e) => e.file)],
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
    return output
      .split('\n')
      .filter((line) => /error TS\d+/.test(line))
      .map((line) => {
        const at = /^example-(\d+)\.tsx?\((\d+),\d+\): (.*)$/.exec(line);
        return at === null ? line : `${document}:${Number(at[1]) + Number(at[2]) - 1}: ${at[3]}`;
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it('every TypeScript example in the README compiles against the library', () => {
  const examples = examplesOf('README.md');
  expect(examples.length).toBeGreaterThanOrEqual(6); // client, server, React, Vue, Drizzle, Kysely
  const appFunctions = `declare function render(rows: readonly unknown[]): void;
declare function badge(pendingCount: number | undefined, phase: string | undefined): void;
declare function notify(message: string): void;
`;
  expect(typeCheck('README.md', examples, appFunctions)).toEqual([]);
}, 120_000);

it('every TypeScript example in docs/client.md compiles against the library', () => {
  const examples = examplesOf('docs/client.md');
  expect(examples.length).toBeGreaterThanOrEqual(4);
  // The app around the fragments: an open database, its schema, the signed-in user, its UI.
  const app = `declare const openDatabase: typeof import('oversqlite').openDatabase;
declare const db: import('oversqlite').Database;
declare const schema: import('oversqlite').AppSchema;
declare const SCHEMA_SQL: string;
declare const auth: { currentAccessToken(): Promise<string | null> };
declare const userId: string;
declare const id: string;
declare const from: string;
declare const to: string;
declare const amount: number;
declare function render(value: unknown): void;
declare function showBadge(pendingCount: number | undefined, phase: string | undefined, lastError: unknown): void;
`;
  expect(typeCheck('docs/client.md', examples, app)).toEqual([]);
}, 120_000);
