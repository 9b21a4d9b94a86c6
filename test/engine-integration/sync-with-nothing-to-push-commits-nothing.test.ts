/**
 * A sync with nothing to push and nothing new to pull (what every watch wake-up of a device that
 * did not write is, until the pull finds the new bundle) commits no local transaction: no freeze
 * of an empty dirty set, no durable write on OPFS before the pull request goes out. With a local
 * write pending, the same sync does commit (the freeze), so the count is not vacuous.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Device, World } from './support/devices.ts';
import { startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

/** Counts the transactions `d`'s connection commits (SQLite's commit hook). */
function countCommits(d: Device): { readonly n: number } {
  const counter = { n: 0 };
  d.options.sqlite3.capi.sqlite3_commit_hook(
    d.db,
    () => {
      counter.n++;
      return 0;
    },
    0,
  );
  return counter;
}

it('commits nothing when there is nothing to push or pull, and commits when there is', async () => {
  const d = await world.device('idle-sync');
  await d.engine.attach('idle-sync');
  await d.engine.sync();
  const commits = countCommits(d);
  const idle = await d.engine.sync();
  expect(idle.push.outcome).toBe('no_change');
  expect(idle.pull.outcome).toBe('already_at_target');
  expect(commits.n).toBe(0);

  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'one')`);
  const before = commits.n;
  expect((await d.engine.sync()).push.outcome).toBe('committed');
  expect(commits.n).toBeGreaterThan(before);
});
