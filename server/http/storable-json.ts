/**
 * Request bodies are checked, before any database work, for what PostgreSQL cannot store or what
 * would exhaust the server: text containing NUL (U+0000) or lone UTF-16 surrogates (neither fits
 * in `text` or `jsonb`), and values nested deeper than a bound (a recursive walk over 10,000
 * nested arrays overflows the stack). The answer names the place in the body, not the value.
 */

/** Deepest nesting of arrays/objects accepted in a request body (wire values need a few levels). */
const MAX_JSON_DEPTH = 64;

/** Where and why a body cannot be stored. */
export interface UnstorableJson {
  /** JSON path such as `rows[3].payload.title` (member names capped at 64 characters). */
  path: string;
  problem: string;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when `s` has no lone UTF-16 surrogate (String.prototype.isWellFormed, which TS's ES2022 lib lacks). */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains NUL (U+0000), which PostgreSQL text cannot store';
  if (!isWellFormedText(s)) return 'contains a lone UTF-16 surrogate, which is not Unicode text';
  return null;
}

function member(path: string, name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(shown) ? `${path}.${shown}` : `${path}[${JSON.stringify(shown)}]`;
}

/**
 * The first unstorable place in a parsed JSON body (member names included), or null. Iterative,
 * so depth costs no stack.
 */
export function findUnstorableJson(body: unknown, maxDepth = MAX_JSON_DEPTH): UnstorableJson | null {
  // Paths cost an allocation per value: only the (rare) failing body is walked again with them.
  return walk(body, maxDepth, false) && walk(body, maxDepth, true);
}

function walk(body: unknown, maxDepth: number, withPaths: boolean): UnstorableJson | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '$', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) return { path, problem };
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= maxDepth) return { path, problem: `is nested deeper than ${maxDepth} levels` };
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: withPaths ? `${path}[${i}]` : '', depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(value as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [name, v] = entries[i]!;
      const problem = textProblem(name);
      if (problem)
        return { path: member(path, name.replace(/[\u0000\ud800-\udfff]/g, '\ufffd')), problem: `has a member name that ${problem}` };
      stack.push({ value: v, path: withPaths ? member(path, name) : '', depth: depth + 1 });
    }
  }
  return null;
}
