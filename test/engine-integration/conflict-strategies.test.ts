/**
 * Each conflict strategy against the real server: device A commits an update first, device B's
 * concurrent update of the same row conflicts (base version behind), and B's strategy decides.
 * Checks the final row on B, on A after it syncs, and in PostgreSQL, plus the `conflict` event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConflictEventDetail, ConflictResolver, SyncEngineOptions } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

let userCounter = 0;

async function scenario(conflicts: SyncEngineOptions['conflicts']) {
  const user = `conflict-user-${++userCounter}`;
  const a = await world.device(user);
  const b = await world.device(user, { conflicts });
  await a.engine.attach(user);
  a.db.exec(`INSERT INTO users(id, name, email) VALUES ('${uuid(1)}', 'Original', 'o@example.com')`);
  await a.engine.sync();
  await b.engine.attach(user);
  a.db.exec(`UPDATE users SET name = 'From A' WHERE id = '${uuid(1)}'`);
  await a.engine.sync();
  b.db.exec(`UPDATE users SET name = 'From B', email = 'b@example.com' WHERE id = '${uuid(1)}'`);
  const events: ConflictEventDetail[] = [];
  b.engine.subscribe((e) => e.type === 'conflict' && events.push(e.conflict));
  const res = await b.engine.sync();
  await a.engine.sync();
  const pg = await pgRows(world, 'users', user);
  return { a, b, res, events, pg, user };
}

describe('conflict strategies (real server)', () => {
  it("server-wins (default): B takes A's row", async () => {
    const { a, b, events, pg } = await scenario(undefined);
    expect(events).toEqual([
      {
        table: 'users',
        key: uuid(1),
        localOp: 'UPDATE',
        localRow: expect.objectContaining({ id: uuid(1), name: 'From B', email: 'b@example.com' }),
        serverRow: expect.objectContaining({ id: uuid(1), name: 'From A', email: 'o@example.com' }),
        serverVersion: 2,
        serverDeleted: false,
        resolution: 'server',
      },
    ]);
    expect(localRows(b.db, 'users')[0]).toMatchObject({ name: 'From A', email: 'o@example.com' });
    expect(localRows(a.db, 'users')).toEqual(localRows(b.db, 'users'));
    expect(pg[0]).toMatchObject({ name: 'From A' });
    expect(b.engine.status.pendingCount).toBe(0);
  });

  it("client-wins: B's row is pushed on top of the server version", async () => {
    const { a, b, events, pg, res } = await scenario('client-wins');
    expect(events[0]).toMatchObject({ resolution: 'local', serverVersion: 2 });
    expect(res.push).toMatchObject({ outcome: 'committed', conflicts: 1 });
    expect(localRows(b.db, 'users')[0]).toMatchObject({ name: 'From B', email: 'b@example.com' });
    expect(localRows(a.db, 'users')).toEqual(localRows(b.db, 'users'));
    expect(pg[0]).toMatchObject({ name: 'From B', email: 'b@example.com' });
  });

  it('custom merge (async resolver) gets local, server and base rows', async () => {
    const seen: unknown[] = [];
    const merge: ConflictResolver = async (ctx) => {
      seen.push(ctx);
      return { row: { ...ctx.serverRow, email: (ctx.localRow as { email: string }).email } };
    };
    const { a, b, events, pg } = await scenario(merge);
    expect(seen[0]).toMatchObject({
      table: 'users',
      key: uuid(1),
      localOp: 'UPDATE',
      localRow: { name: 'From B', email: 'b@example.com' },
      serverRow: { name: 'From A', email: 'o@example.com' },
      baseVersion: 1,
      serverVersion: 2,
      serverDeleted: false,
    });
    expect(events[0]).toMatchObject({ resolution: 'merged' });
    expect(localRows(b.db, 'users')[0]).toMatchObject({ name: 'From A', email: 'b@example.com' });
    expect(localRows(a.db, 'users')).toEqual(localRows(b.db, 'users'));
    expect(pg[0]).toMatchObject({ name: 'From A', email: 'b@example.com' });
  });

  it('custom delete: the row goes away everywhere', async () => {
    const { a, b, events, pg } = await scenario(() => ({ delete: true }));
    expect(events[0]).toMatchObject({ resolution: 'delete' });
    expect(localRows(b.db, 'users')).toEqual([]);
    expect(localRows(a.db, 'users')).toEqual([]);
    expect(pg).toEqual([]);
  });

  it('an invalid resolution is a typed error and loses nothing', async () => {
    const user = `conflict-user-${++userCounter}`;
    const a = await world.device(user);
    const b = await world.device(user, { conflicts: () => ({ keep: 'nobody' }) as never });
    await a.engine.attach(user);
    a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Original')`);
    await a.engine.sync();
    await b.engine.attach(user);
    a.db.exec(`UPDATE users SET name = 'From A' WHERE id = '${uuid(1)}'`);
    await a.engine.sync();
    b.db.exec(`UPDATE users SET name = 'From B' WHERE id = '${uuid(1)}'; INSERT INTO tags(name) VALUES ('other')`);
    const err = await b.engine.sync().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_conflict_resolution' });
    expect(b.engine.status.pendingCount).toBe(2);
    expect(localRows(b.db, 'users')[0]).toMatchObject({ name: 'From B' });
  });
});
