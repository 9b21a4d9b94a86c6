// The public surface is a visible diff: api/oversqlite.api.md holds the declarations of every
// entry package.json exports (emitted as published: `@internal` stripped), and this test fails
// when the sources no longer produce it. After a deliberate change of the surface, run
// `node scripts/api-report.mjs` and commit the report with the change.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { REPORT_PATH, buildReport, exportedEntries } from '../../scripts/api-report.mjs';

const report = buildReport();

it('the checked-in API report is what the sources declare', () => {
  const checkedIn = readFileSync(REPORT_PATH, 'utf8').split('\n');
  const now = report.split('\n');
  const first = now.findIndex((line, i) => line !== checkedIn[i]);
  // The first differing lines, so the failure says where the surface changed.
  const at = first === -1 ? (now.length === checkedIn.length ? -1 : now.length) : first;
  expect(
    at === -1
      ? null
      : { line: at + 1, checkedIn: checkedIn.slice(at, at + 5), now: now.slice(at, at + 5), fix: 'node scripts/api-report.mjs' },
  ).toBeNull();
});

it('covers every entry package.json exports', () => {
  const entries = exportedEntries();
  expect(entries.length).toBeGreaterThan(0);
  for (const [subpath, source] of entries) {
    expect(report).toContain(`- \`oversqlite${subpath === '.' ? '' : subpath.slice(1)}\`: \`${source.replace(/\.ts$/, '.d.ts')}\``);
  }
});

it('leaves out members marked @internal', () => {
  const internal = readFileSync(new URL('../../src/sync-handle.ts', import.meta.url), 'utf8').includes(
    '/** @internal an engine event reached this tab. */',
  );
  expect(internal).toBe(true);
  expect(report).not.toMatch(/\bhandleEvent\(/);
  expect(report).not.toMatch(/\bmeasureQueryInWorker\(/);
});
