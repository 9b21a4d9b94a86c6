/**
 * Two devices of one user that start from the same synced state, the opening of most
 * two-device scenarios: A attaches (seeding the account), writes `seedSql` and syncs; then B
 * attaches (taking the server's state) and syncs.
 */
import type { SyncEngineOptions } from '../../../worker/engine/index.ts';
import type { Device, World } from './devices.ts';

export interface DevicePairOptions {
  /** SQL A runs after attaching, before its sync (the rows both devices start with). */
  seedSql?: string;
  /** Engine options of device A, then of device B. */
  a?: Partial<SyncEngineOptions>;
  b?: Partial<SyncEngineOptions>;
}

export async function syncedDevicePair(world: World, userId: string, opts: DevicePairOptions = {}): Promise<{ a: Device; b: Device }> {
  const a = await world.device(userId, opts.a);
  const b = await world.device(userId, opts.b);
  await a.engine.attach(userId);
  if (opts.seedSql !== undefined) a.db.exec(opts.seedSql);
  await a.engine.sync();
  await b.engine.attach(userId);
  await b.engine.sync();
  return { a, b };
}
