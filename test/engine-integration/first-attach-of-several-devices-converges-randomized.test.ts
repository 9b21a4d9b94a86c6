/**
 * Randomized: the first attach of a new account by several devices, each holding offline rows it
 * wrote before signing in (some deleted again before any push), under lost answers (the server
 * did the work; the answer never arrives), app restarts, seed leases that lapse at random moments,
 * and more writes and deletes between syncs; a few keys are written by every device (their writes meet as
 * conflicts, server-wins). Whatever order it happens in, once the faults stop and each device
 * attaches and syncs, every device holds exactly the rows that were written and not deleted
 * (anonymous rows are kept: `anonymousData: 'keep'`) with PostgreSQL's values, PostgreSQL holds the
 * same keys, and nothing is pending. Real server and PostgreSQL. A failure prints its seed:
 * `OVERSQLITE_SEED_PHASE_SEED=<seed> npx vitest run <this file>`; `OVERSQLITE_SEED_PHASE_RUNS=<n>`
 * runs more seeds (default 12); `OVERSQLITE_TRACE=1` prints each step.
 */
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { seededRandom } from '../harness/seeded-random.ts';
import type { Device, World } from './support/devices.ts';
import { expireSeedLeases, localRows, pgRows, startWorld, uuid } from './support/devices.ts';
import { LostAnswers } from './support/lost-answers.ts';
import { seededTests } from './support/seeded-tests.ts';

const STEPS = 30;
const trace = process.env.OVERSQLITE_TRACE ? (m: string): void => console.log(m) : (): void => {};

interface Actor {
  name: string;
  device: Device;
  lost: LostAnswers;
  /** Ids this device wrote and has not deleted. */
  own: Set<string>;
}

const LOSABLE = [/\/sync\/connect$/, /\/sync\/push-sessions$/, /\/commit$/, /\/chunks$/, /\/sync\/pull$/];

async function runSeed(world: World, seed: number): Promise<void> {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const user = `first-attach-${seed}`;
  let next = 0;
  const expected = new Set<string>();
  const actors: Actor[] = [];
  const devices = 2 + Math.floor(rand() * 2);
  for (let i = 0; i < devices; i++) {
    const lost = new LostAnswers();
    const device = await world.device(user, { retry: { attempts: 1 }, pushChunkRows: rand() < 0.5 ? 2 : undefined, fetch: lost.fetch });
    actors.push({ name: `d${i}`, device, lost, own: new Set() });
  }
  const write = (a: Actor): void => {
    if (a.own.size > 0 && rand() < 0.35) {
      const id = pick([...a.own]);
      a.device.db.exec(`DELETE FROM users WHERE id = '${id}'`);
      a.own.delete(id);
      expected.delete(id);
      return;
    }
    if (rand() < 0.25) {
      // A key every device may write (never deleted): the devices' writes of it meet as conflicts.
      const id = uuid(100_000 + Math.floor(rand() * 3));
      a.device.db.exec(
        `INSERT INTO users(id, name) VALUES ('${id}', '${a.name} shared ${++next}') ON CONFLICT(id) DO UPDATE SET name = excluded.name`,
      );
      expected.add(id);
      return;
    }
    const id = uuid(++next);
    a.device.db.exec(`INSERT INTO users(id, name) VALUES ('${id}', '${a.name} row ${next}')`);
    a.own.add(id);
    expected.add(id);
  };
  // Offline rows before anyone signs in (possibly none on a device).
  for (const a of actors) for (let n = Math.floor(rand() * 4); n > 0; n--) write(a);
  const attached = (a: Actor): boolean => a.device.engine.status.userId === user;
  const attach = async (a: Actor): Promise<void> => {
    const res = await a.device.engine.attach(user).catch((e: Error) => e.message);
    trace(`${a.name} attach ${JSON.stringify(res)}`);
  };

  for (let step = 0; step < STEPS; step++) {
    const a = pick(actors);
    const r = rand();
    if (r < 0.2) a.lost.loseNext(pick(LOSABLE));
    else if (r < 0.35) write(a);
    else if (r < 0.45) await expireSeedLeases(world, user);
    else if (r < 0.5) {
      // The app restarts: a new engine over the same database.
      await a.device.engine.close();
      a.device.engine = await a.device.reopen();
      trace(`${a.name} restarted`);
    } else if (!attached(a)) await attach(a);
    else trace(`${a.name} sync ${JSON.stringify(await a.device.engine.sync().catch((e: Error) => e.message))}`);
    if (r < 0.2) trace(`${a.name} will lose an answer`);
    else if (r < 0.35) trace(`${a.name} wrote; own ${[...a.own].join(',')}`);
    else if (r < 0.45) trace('lease expired');
  }

  // Faults stop; every device attaches and syncs until nothing is pending anywhere.
  for (const a of actors) a.lost.loseNext(null);
  for (let round = 0; round < 6; round++) {
    for (const a of actors) {
      if (!attached(a)) await attach(a);
      if (attached(a)) trace(`${a.name} final sync ${JSON.stringify(await a.device.engine.sync().catch((e: Error) => e.message))}`);
    }
    if (actors.every((a) => attached(a) && a.device.engine.status.pendingCount === 0)) break;
  }
  for (const a of actors) await a.device.engine.sync();

  const want = [...expected].sort();
  const names = (rows: Record<string, unknown>[]): string[] => rows.map((row) => String(row.id)).sort();
  const server = (await pgRows(world, 'users', user)).map((row) => ({ id: row.id, name: row.name }));
  expect(names(server)).toEqual(want);
  for (const a of actors) {
    expect(a.device.engine.status, `${a.name} status`).toMatchObject({ userId: user, pendingCount: 0 });
    const local = localRows(a.device.db, 'users').map((row) => ({ id: row.id, name: row.name }));
    expect(names(local), `${a.name} rows`).toEqual(want);
    expect(local, `${a.name} values`).toEqual([...server].sort((x, y) => String(x.id).localeCompare(String(y.id))));
  }
}

describe('first attach of several devices with offline rows, randomized', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world?.close());

  // Each seed's devices closed: thousands of seeds of open in-memory databases exhaust the wasm heap.
  afterEach(() => world.closeDevices());

  seededTests('OVERSQLITE_SEED_PHASE_SEED', 'OVERSQLITE_SEED_PHASE_RUNS', 4_100_000, 12, (seed) => runSeed(world, seed));
});
