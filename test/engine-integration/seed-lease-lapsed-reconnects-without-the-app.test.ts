/**
 * A seed lease that lapses after attach is settled inside `sync()`, with no call from the app
 * (recovery.ts `reconnect`), against the real server and PostgreSQL. The device stays attached to
 * its user throughout and keeps every pending row:
 *  - the lease expired and nobody took the account: a new lease, the same rows seed it;
 *  - the lease expired and another device seeded the account meanwhile (`initialization_stale`):
 *    the snapshot comes down, the rows stay pending as intent and go up on top; both converge;
 *  - another device holds the lease now: `scope_initializing` with `retry_after_seconds`, still
 *    attached and pending; once that device has seeded, the next sync converges.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device, World } from './support/devices.ts';
import { expireSeedLeases, localRows, pgRows, startWorld, uuid } from './support/devices.ts';

describe('a seed lease that lapsed is renewed by sync()', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world?.close());

  /** A seeds `user` with row `n`, its lease lapses, and B (row `n + 1`) is granted a new one. */
  async function leaseLapsedThenTakenOver(user: string, n: number): Promise<{ a: Device; b: Device }> {
    const a = await world.device(user);
    const b = await world.device(user);
    a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(n)}', 'from A')`);
    b.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(n + 1)}', 'from B')`);
    expect(await a.engine.attach(user)).toMatchObject({ outcome: 'seeded_from_local' });
    await expireSeedLeases(world, user);
    expect(await b.engine.attach(user)).toMatchObject({ outcome: 'seeded_from_local' });
    return { a, b };
  }

  it('expired, nobody else: a new lease seeds the same rows', async () => {
    const d = await world.device('ned');
    d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(5)}', 'seed')`);
    expect(await d.engine.attach('ned')).toMatchObject({ outcome: 'seeded_from_local' });
    await expireSeedLeases(world, 'ned');
    await d.engine.sync();
    expect(d.engine.status).toMatchObject({ userId: 'ned', pendingCount: 0, lastError: null });
    expect((await pgRows(world, 'users', 'ned')).map((r) => r.name)).toEqual(['seed']);
    // The scope is initialized: a second device of the account takes the server's state.
    const other = await world.device('ned');
    expect(await other.engine.attach('ned')).toMatchObject({ outcome: 'used_remote_state', snapshotRows: 1 });
  });

  it('expired, another device seeded meanwhile: snapshot down, own rows kept and pushed on top', async () => {
    const { a, b } = await leaseLapsedThenTakenOver('ona', 11);
    await b.engine.sync();
    // A's frozen seed carries a lease the server no longer knows: initialization_stale.
    await a.engine.sync();
    expect(a.engine.status).toMatchObject({ userId: 'ona', pendingCount: 0, lastError: null });
    await b.engine.sync();
    expect((await pgRows(world, 'users', 'ona')).map((r) => r.name)).toEqual(['from A', 'from B']);
    expect(localRows(a.db, 'users')).toEqual(localRows(b.db, 'users'));
  });

  it('another device holds the lease now: scope_initializing, attached, then converges', async () => {
    const { a, b } = await leaseLapsedThenTakenOver('pia', 21);
    const err = await a.engine.sync().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'scope_initializing', status: 409 });
    expect((err as { detail?: { retry_after_seconds?: number } }).detail?.retry_after_seconds).toBeGreaterThanOrEqual(1);
    expect(a.engine.status).toMatchObject({ userId: 'pia', pendingCount: 1 });
    await b.engine.sync();
    await a.engine.sync();
    await b.engine.sync();
    expect(a.engine.status).toMatchObject({ userId: 'pia', pendingCount: 0, lastError: null });
    expect((await pgRows(world, 'users', 'pia')).map((r) => r.name)).toEqual(['from A', 'from B']);
    expect(localRows(a.db, 'users')).toEqual(localRows(b.db, 'users'));
  });
});
