/**
 * The code blocks of docs/server.md marked `<!-- example: <path> -->` are the example files the
 * examples test runs, verbatim except that repository-relative imports read `oversqlite/server`.
 * So the documentation cannot drift from code that is known to work.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const doc = readFileSync(`${repoRoot}/docs/server.md`, 'utf8');

/** `from '../../index.ts'`, `'../../auth/index.ts'`, … → `from 'oversqlite/server'`. */
function asPublished(source: string): string {
  return source.replace(/from '\.\.\/\.\.\/(index|auth\/index|adapters\/index|database\/pglite)\.ts'/g, "from 'oversqlite/server'");
}

const examples = [...doc.matchAll(/```ts\n((?:(?!```)[\s\S])*)```\n<!-- example: (\S+) -->/g)].map((match) => ({
  code: match[1]!,
  path: match[2]!,
}));

describe('docs/server.md examples', () => {
  it('marks every example file once', () => {
    const files = readdirSync(`${repoRoot}/server/reference/examples`)
      .map((name) => `server/reference/examples/${name}`)
      .sort();
    expect(examples.map((example) => example.path).sort()).toEqual(files);
  });

  it.each(examples)('shows $path verbatim', ({ code, path }) => {
    expect(code).toBe(asPublished(readFileSync(`${repoRoot}/${path}`, 'utf8')));
  });
});
