// The toolchain says the truth: package.json `engines`, the README's Node requirement and the
// locked dependencies agree, and every locked package that declares a Node floor above ours is
// named in the README with the reason it still works (today only @sqlite.org/sqlite-wasm, which
// npm warns about on Node 20). A dependency bump that raises a floor fails here until documented.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};
const readme = readFileSync(new URL('README.md', root), 'utf8');

type Version = [number, number, number];
const parse = (v: string): Version => {
  const [a = 0, b = 0, c = 0] = v
    .replace(/^v/, '')
    .split('.')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : 0));
  return [a, b, c];
};
const cmp = (x: Version, y: Version) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2];

/** Whether `v` satisfies one npm range as written in engines fields (>=, >, <, <=, ^, ~, x ranges, ||). */
function satisfies(v: Version, range: string): boolean {
  return range.split('||').some((alt) =>
    alt
      .trim()
      .replace(/(>=|<=|>|<|\^|~|=)\s+/g, '$1')
      .split(/\s+/)
      .filter(Boolean)
      .every((comparator) => {
        const m = /^(>=|<=|>|<|\^|~|=)?v?([\dx*.]+)$/.exec(comparator);
        if (!m) throw new Error(`engines range not understood by this test: ${range}`);
        const [op = '=', raw] = [m[1], m[2]!];
        const parts = raw.split('.');
        const floor = parse(raw.replace(/[x*]/g, '0'));
        const fixed = parts.findIndex((p) => p === 'x' || p === '*');
        if (op === '>=') return cmp(v, floor) >= 0;
        if (op === '>') return cmp(v, floor) > 0;
        if (op === '<') return cmp(v, floor) < 0;
        if (op === '<=') return cmp(v, floor) <= 0;
        if (op === '^') return cmp(v, floor) >= 0 && v[0] === floor[0];
        if (op === '~') return cmp(v, floor) >= 0 && v[0] === floor[0] && v[1] === floor[1];
        const exact = fixed === -1 ? parts.length : fixed;
        return v.slice(0, exact).every((n, i) => n === floor[i]);
      }),
  );
}

const ourFloor = parse(/^>=\s*([\d.]+)$/.exec(pkg.engines.node)?.[1] ?? 'invalid');

it("the README states package.json's Node requirement", () => {
  expect(pkg.engines.node).toMatch(/^>=\d+\.\d+$/);
  expect(readme).toContain(`Node ≥ ${pkg.engines.node.slice(2)}`);
});

it('every locked package that requires a newer Node than ours is named in the README, with its npm warning', () => {
  const above = Object.entries(lock.packages)
    .filter(([path, p]) => path !== '' && p.engines && !Array.isArray(p.engines) && p.engines.node)
    .filter(([, p]) => !satisfies(ourFloor, (p.engines as { node: string }).node))
    .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${p.version}`);
  expect(above).toEqual(['@sqlite.org/sqlite-wasm@3.54.1-build1']);
  for (const name of above) expect(readme).toContain(name);
  expect(readme).toContain('EBADENGINE');
});

it('the range check reads engines fields as npm does', () => {
  expect(satisfies([20, 19, 0], '^20.19.0 || >=22.12.0')).toBe(true);
  expect(satisfies([20, 18, 9], '^20.19.0 || >=22.12.0')).toBe(false);
  expect(satisfies([20, 19, 0], '>=22')).toBe(false);
  expect(satisfies([20, 19, 0], '>= 10.x')).toBe(true);
  expect(satisfies([20, 19, 0], '^10 || ^12 || >=14')).toBe(true);
  expect(satisfies([20, 19, 0], '^20.0.0 || ^22.0.0 || >=24.0.0')).toBe(true);
  expect(satisfies([21, 0, 0], '^20.0.0 || ^22.0.0 || >=24.0.0')).toBe(false);
});
