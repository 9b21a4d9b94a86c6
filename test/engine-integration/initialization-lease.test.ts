/**
 * The first-connect initialization lease against the real server: two anonymous devices of a new
 * account race; the first gets `initialize_local`, the second `retry_later` with a positive
 * `retryAfterSeconds` (nothing persisted). After the winner's seed push, the loser attaches with
 * `remote_authoritative` and keeps its own offline rows as intent. A seed push after the lease
 * expired is `initialization_lease_invalid`: the device becomes anonymous again with its data and
 * outbox intact, and a new attach + push uploads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

describe('initialization lease', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ limits: { initializationLeaseTtlSeconds: 1 } });
  });
  afterAll(() => world?.close());

  it('race: one seeds, the other retries later and then keeps its rows as intent', async () => {
    const a = await world.device('mia');
    const b = await world.device('mia');
    a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'from A')`);
    b.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'from B')`);
    expect(await a.engine.attach('mia')).toMatchObject({ outcome: 'seeded_from_local' });
    const later = await b.engine.attach('mia');
    expect(later.status).toBe('retry_later');
    expect(later.status === 'retry_later' && later.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(b.engine.status.userId).toBeNull();
    await a.engine.sync();
    expect(await b.engine.attach('mia')).toMatchObject({ outcome: 'used_remote_state', keptLocalChanges: 1 });
    await b.engine.sync();
    await a.engine.sync();
    expect((await pgRows(world, 'users', 'mia')).map((r) => r.name)).toEqual(['from A', 'from B']);
    expect(localRows(a.db, 'users')).toEqual(localRows(b.db, 'users'));
  });

  it('an expired lease makes the seed push fail typed; re-attach uploads the same data', async () => {
    const d = await world.device('ned');
    d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(5)}', 'seed')`);
    expect(await d.engine.attach('ned')).toMatchObject({ outcome: 'seeded_from_local' });
    // Let the 1 s lease lapse (the server checks lease expiry against its own clock).
    await world.server.database.query(`UPDATE sync.scope_state SET lease_expires_at = now() - interval '1 minute'`);
    const err = await d.engine.pushPending().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'initialization_lease_invalid' });
    expect(d.engine.status).toMatchObject({ userId: null, pendingCount: 1 });
    const again = await d.engine.attach('ned');
    expect(again.status).toBe('connected');
    await d.engine.sync();
    expect((await pgRows(world, 'users', 'ned')).map((r) => r.name)).toEqual(['seed']);
    expect(d.engine.status.pendingCount).toBe(0);
  });
});
