/**
 * Randomized: devices that sign in and out of two accounts (attach, detach, syncThenDetach, attach
 * the other account) while writing and deleting rows, signed in and signed out, under lost answers
 * (the server did the work; the answer never arrives), app restarts and seed leases that lapse. Whatever order
 * it happens in, once the faults stop and every device is signed in and synced:
 *  - each account holds in PostgreSQL exactly the rows written for it and not deleted: rows written
 *    while signed in to it, and rows written signed out that went with the next sign-in to it
 *    (`anonymousData: 'keep'`); nothing of one account reaches the other;
 *  - each device holds exactly its account's rows, and nothing is pending;
 *  - a detach never discards a change: it is blocked while anything is unsynced (never forced here).
 * Real server and PostgreSQL. A failure prints its seed: `OVERSQLITE_USER_SWITCH_SEED=<seed>
 * OVERSQLITE_USER_SWITCH_RUNS=1 npx vitest run <this file>`; `OVERSQLITE_USER_SWITCH_RUNS=<n>` runs
 * more seeds (default 10); `OVERSQLITE_TRACE=1` prints each step.
 */
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { seededRandom } from '../harness/seeded-random.ts';
import type { Device, World } from './support/devices.ts';
import { expireSeedLeases, localRows, pgRows, startWorld, uuid } from './support/devices.ts';
import { LostAnswers } from './support/lost-answers.ts';
import { seededTests } from './support/seeded-tests.ts';

const STEPS = 40;
const trace = process.env.OVERSQLITE_TRACE ? (m: string): void => console.log(m) : (): void => {};
const LOSABLE = [/\/sync\/connect$/, /\/sync\/push-sessions$/, /\/commit$/, /\/sync\/pull$/, /\/sync\/snapshot-sessions$/];

interface Actor {
  name: string;
  device: Device;
  lost: LostAnswers;
  /** The account `getToken` signs for (the one the app is signing in to). */
  account: string;
  /** Rows written signed out and not deleted: they go with the next sign-in. */
  anonymous: Set<string>;
}

async function runSeed(world: World, seed: number): Promise<void> {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const accounts = [`switch-${seed}-a`, `switch-${seed}-b`];
  const expected = new Map(accounts.map((a) => [a, new Set<string>()]));
  let next = 0;
  const actors: Actor[] = [];
  const devices = 2 + Math.floor(rand() * 2);
  for (let i = 0; i < devices; i++) {
    const lost = new LostAnswers();
    const actor = { name: `d${i}`, lost, account: pick(accounts), anonymous: new Set<string>() } as Actor;
    actor.device = await world.device(actor.account, {
      retry: { attempts: 1 },
      pushChunkRows: rand() < 0.5 ? 2 : undefined,
      fetch: lost.fetch,
      getToken: async () => world.server.tokenFor(actor.account),
    });
    actors.push(actor);
  }
  const signedIn = (a: Actor): string | null => a.device.engine.status.userId;
  const ids = (db: Device['db']): string[] => localRows(db, 'users').map((r) => String(r.id));

  const write = (a: Actor): void => {
    const user = signedIn(a);
    const present = ids(a.device.db);
    if (present.length > 0 && rand() < 0.35) {
      const id = pick(present);
      a.device.db.exec(`DELETE FROM users WHERE id = '${id}'`);
      if (user) expected.get(user)!.delete(id);
      else a.anonymous.delete(id);
      trace(`${a.name} deleted ${id} (${user ?? 'signed out'})`);
      return;
    }
    const id = uuid(++next);
    a.device.db.exec(`INSERT INTO users(id, name) VALUES ('${id}', '${a.name} row ${next}')`);
    if (user) expected.get(user)!.add(id);
    else a.anonymous.add(id);
    trace(`${a.name} wrote ${id} (${user ?? 'signed out'})`);
  };
  const attach = async (a: Actor, account: string): Promise<void> => {
    a.account = account;
    const res = await a.device.engine.attach(account).catch((e: Error) => e.message);
    trace(`${a.name} attach ${account} ${JSON.stringify(res)}`);
    if (signedIn(a) === account) {
      for (const id of a.anonymous) expected.get(account)!.add(id);
      a.anonymous.clear();
    }
  };
  const signOut = async (a: Actor, sendFirst: boolean): Promise<void> => {
    const pending = a.device.engine.status.pendingCount;
    const res = sendFirst
      ? await a.device.engine.syncThenDetach().catch((e: Error) => e.message)
      : await a.device.engine.detach().catch((e: Error) => e.message);
    trace(`${a.name} ${sendFirst ? 'syncThenDetach' : 'detach'} (pending ${pending}) ${JSON.stringify(res)}`);
    if (signedIn(a) === null) expect(ids(a.device.db), `${a.name}: a detach leaves no row of the account`).toEqual([]);
  };
  const expireLeases = () => expireSeedLeases(world, ...accounts);

  for (const a of actors) for (let n = Math.floor(rand() * 3); n > 0; n--) write(a);
  for (let step = 0; step < STEPS; step++) {
    const a = pick(actors);
    const r = rand();
    if (r < 0.15) a.lost.loseNext(pick(LOSABLE));
    else if (r < 0.4) write(a);
    else if (r < 0.45) {
      await expireLeases();
      trace('leases expired');
    } else if (signedIn(a) === null) await attach(a, pick(accounts));
    else if (r < 0.55) await signOut(a, rand() < 0.5);
    else if (r < 0.62) {
      // The app restarts: a new engine over the same database.
      await a.device.engine.close();
      a.device.engine = await a.device.reopen();
      trace(`${a.name} restarted (${signedIn(a) ?? 'signed out'})`);
    } else trace(`${a.name} sync ${JSON.stringify(await a.device.engine.sync().catch((e: Error) => e.message))}`);
  }

  // Faults stop (time passes: leases lapse); every device signs in and syncs until nothing is pending.
  for (const a of actors) a.lost.loseNext(null);
  await expireLeases();
  for (let round = 0; round < 8; round++) {
    for (const a of actors) {
      if (signedIn(a) === null) await attach(a, a.account);
      if (signedIn(a) !== null)
        trace(`${a.name} final sync ${JSON.stringify(await a.device.engine.sync().catch((e: Error) => e.message))}`);
    }
    if (actors.every((a) => signedIn(a) !== null && a.device.engine.status.pendingCount === 0)) break;
    await expireLeases();
  }
  for (const a of actors) await a.device.engine.sync();

  for (const account of accounts) {
    const want = [...expected.get(account)!].sort();
    expect((await pgRows(world, 'users', account)).map((r) => String(r.id)).sort(), `${account} in PostgreSQL`).toEqual(want);
    for (const a of actors.filter((x) => signedIn(x) === account)) {
      expect(a.device.engine.status.pendingCount, `${a.name} pending`).toBe(0);
      expect(ids(a.device.db).sort(), `${a.name} rows (${account})`).toEqual(want);
    }
  }
  for (const a of actors) expect(signedIn(a), `${a.name} signed in`).not.toBeNull();
}

describe('devices switching between two accounts, randomized', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world?.close());

  // Each seed's devices closed: thousands of seeds of open in-memory databases exhaust the wasm heap.
  afterEach(() => world.closeDevices());

  seededTests('OVERSQLITE_USER_SWITCH_SEED', 'OVERSQLITE_USER_SWITCH_RUNS', 5_200_000, 10, (seed) => runSeed(world, seed));
});
