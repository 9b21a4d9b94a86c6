/**
 * The first-connect initialization lease against the real server: two anonymous devices of a new
 * account race; the first gets `initialize_local`, the second `retry_later` with a positive
 * `retryAfterSeconds` (nothing persisted). After the winner's seed push, the loser attaches with
 * `remote_authoritative` and keeps its own offline rows as intent. (A lease that lapses after
 * attach: `seed-lease-lapsed-reconnects-without-the-app.test.ts`.)
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
});
