/**
 * A device granted `initialize_local` whose pending rows all cancel out (inserted, then deleted
 * before the first push) has nothing to seed the account with. Its next `sync()` connects again
 * without pending rows, the server answers `initialize_empty` to the lease holder, and the scope
 * is initialized at once: pulls work, and another device of the account gets the server's state
 * instead of `retry_later` until the lease expires. When the lease lapsed before that sync, the
 * pull meets `scope_uninitialized` and connects the same way. Real server and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { expireSeedLeases, localRows, pgRows, startWorld, uuid } from './support/devices.ts';

describe('a seed lease with nothing left to seed', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world?.close());

  it('sync() initializes the account empty; another device attaches and both sync', async () => {
    const a = await world.device('quin');
    a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'draft')`);
    expect(await a.engine.attach('quin')).toMatchObject({ outcome: 'seeded_from_local' });
    a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
    await a.engine.sync();
    expect(a.engine.status).toMatchObject({ userId: 'quin', lastError: null });
    const b = await world.device('quin');
    expect(await b.engine.attach('quin')).toMatchObject({ outcome: 'used_remote_state', snapshotRows: 0 });
    b.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'from B')`);
    await b.engine.sync();
    await a.engine.sync();
    expect(localRows(a.db, 'users').map((r) => r.name)).toEqual(['from B']);
    expect((await pgRows(world, 'users', 'quin')).map((r) => r.name)).toEqual(['from B']);
  });

  it('the lease lapsed first: the pull meets scope_uninitialized and connects again', async () => {
    const a = await world.device('rui');
    a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(3)}', 'draft')`);
    expect(await a.engine.attach('rui')).toMatchObject({ outcome: 'seeded_from_local' });
    a.db.exec(`DELETE FROM users WHERE id = '${uuid(3)}'`);
    await expireSeedLeases(world, 'rui');
    const pulled = await a.engine.pullToStable();
    expect(pulled).toMatchObject({ outcome: 'already_at_target' });
    expect(a.engine.status).toMatchObject({ userId: 'rui', lastError: null });
    a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(4)}', 'after')`);
    await a.engine.sync();
    expect((await pgRows(world, 'users', 'rui')).map((r) => r.name)).toEqual(['after']);
  });
});
