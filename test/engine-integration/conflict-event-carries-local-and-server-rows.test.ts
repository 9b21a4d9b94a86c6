/**
 * The `conflict` event, against the real server: it carries the local row as it was before the
 * resolution (wire form, like the resolver's context) and the server's row, plus the resolution;
 * it is emitted after the resolution's transaction committed (a listener already reads the
 * resolved row); and it is plain structured-clone-able data. When the app edits the row while the
 * push is in flight, `localRow` is that newer edit, not the pushed intent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConflictEventDetail, SyncEngineOptions } from '../../worker/engine/index.ts';
import type { Device, World } from './support/devices.ts';
import { localRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

let userCounter = 0;

/** A and B share a row; A renames it and syncs; B renames it too (base version behind). */
async function concurrentRename(overridesB: Partial<SyncEngineOptions> = {}): Promise<{ a: Device; b: Device }> {
  const user = `conflict-event-${++userCounter}`;
  const a = await world.device(user);
  const b = await world.device(user, overridesB);
  await a.engine.attach(user);
  a.db.exec(`INSERT INTO users(id, name, email) VALUES ('${uuid(1)}', 'Original', 'o@example.com')`);
  await a.engine.sync();
  await b.engine.attach(user);
  a.db.exec(`UPDATE users SET name = 'From A' WHERE id = '${uuid(1)}'`);
  await a.engine.sync();
  b.db.exec(`UPDATE users SET name = 'From B', email = 'b@example.com' WHERE id = '${uuid(1)}'`);
  return { a, b };
}

describe('conflict event (real server)', () => {
  it('server-wins: carries both rows, is emitted after the commit, and survives structuredClone', async () => {
    const { b } = await concurrentRename();
    const seen: Array<{ event: ConflictEventDetail; rowAtEmit: Record<string, unknown> | undefined }> = [];
    b.engine.subscribe((e) => {
      if (e.type === 'conflict') seen.push({ event: e.conflict, rowAtEmit: localRows(b.db, 'users')[0] });
    });
    await b.engine.sync();

    expect(seen).toHaveLength(1);
    const { event, rowAtEmit } = seen[0]!;
    expect(event).toMatchObject({
      table: 'users',
      key: uuid(1),
      localOp: 'UPDATE',
      resolution: 'server',
      serverVersion: 2,
      serverDeleted: false,
    });
    // Local side before resolution, in wire form: B's own edit.
    expect(event.localRow).toEqual({ id: uuid(1), name: 'From B', email: 'b@example.com', created_at: expect.any(String) });
    // Server side: A's committed row.
    expect(event.serverRow).toMatchObject({ id: uuid(1), name: 'From A', email: 'o@example.com' });
    // Emitted after the resolution committed: the listener already sees the server's row locally.
    expect(rowAtEmit).toMatchObject({ name: 'From A', email: 'o@example.com' });
    // Plain data: crosses to the main thread unchanged.
    expect(structuredClone(event)).toEqual(event);
  });

  it('localRow is the edit the app made while the push was in flight, not the pushed intent', async () => {
    let device: Device | undefined;
    const contexts: Array<Record<string, unknown> | null> = [];
    const { b } = await concurrentRename({
      // The resolver runs mid-push (after the freeze); the app writes the row again meanwhile.
      conflicts: async (ctx) => {
        contexts.push(ctx.localRow);
        device!.db.exec(`UPDATE users SET name = 'Edited during push' WHERE id = '${uuid(1)}'`);
        return { keep: 'server' };
      },
    });
    device = b;
    const events: ConflictEventDetail[] = [];
    b.engine.subscribe((e) => e.type === 'conflict' && events.push(e.conflict));
    await b.engine.sync();

    expect(contexts).toEqual([expect.objectContaining({ name: 'From B' })]);
    expect(events).toHaveLength(1);
    expect(events[0]!.localRow).toMatchObject({ id: uuid(1), name: 'Edited during push', email: 'b@example.com' });
    expect(events[0]!.serverRow).toMatchObject({ name: 'From A' });
    // server-wins drops the local edit too: the row is the server's.
    expect(localRows(b.db, 'users')[0]).toMatchObject({ name: 'From A' });
  });

  it('a local delete that conflicts reports localRow null', async () => {
    const user = `conflict-event-${++userCounter}`;
    const a = await world.device(user);
    const b = await world.device(user, { conflicts: 'server-wins' });
    await a.engine.attach(user);
    a.db.exec(`INSERT INTO users(id, name, email) VALUES ('${uuid(2)}', 'Original', NULL)`);
    await a.engine.sync();
    await b.engine.attach(user);
    a.db.exec(`UPDATE users SET name = 'Kept by A' WHERE id = '${uuid(2)}'`);
    await a.engine.sync();
    b.db.exec(`DELETE FROM users WHERE id = '${uuid(2)}'`);
    const events: ConflictEventDetail[] = [];
    b.engine.subscribe((e) => e.type === 'conflict' && events.push(e.conflict));
    await b.engine.sync();
    expect(events).toEqual([expect.objectContaining({ localOp: 'DELETE', localRow: null, resolution: 'server' })]);
    expect(events[0]!.serverRow).toMatchObject({ name: 'Kept by A' });
    expect(localRows(b.db, 'users')).toEqual([expect.objectContaining({ name: 'Kept by A' })]);
  });
});
