/**
 * One model-based chaos run: N Node devices of one user on the FK schema (folders with a self
 * reference and CASCADE, notes CASCADE, pins NO ACTION, links SET NULL, teams <-> people cycle)
 * doing seeded random operations: writes and deletes across the foreign keys, offline stretches,
 * reloads (the engine closed and opened again on the same database), concurrent syncs,
 * server-originated writes (`writeAs`), with transport faults injected on every device
 * (`faulty-fetch.ts`). Then faults stop, every device comes online and syncs a few rounds, and
 * the properties are checked: every device holds exactly PostgreSQL's rows with no FK violation
 * (no divergence), and the last sync of every device succeeded with nothing left pending (no stuck
 * device). No manual step (`hydrate()`) is ever taken.
 */
import type { SyncEngine, SyncEvent } from '../../../worker/engine/index.ts';
import type { Device, World } from '../../engine-integration/support/devices.ts';
import { foreignKeyViolations } from '../../engine-integration/support/devices.ts';
import { fkLocal, fkServer } from '../../engine-integration/support/fk-schema.ts';
import { FaultyFetch } from './faulty-fetch.ts';
import type { FaultKind } from './faulty-fetch.ts';

/** xorshift32: small, seedable, the same sequence everywhere. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

export interface ChaosOptions {
  seed: number;
  devices: number;
  steps: number;
  /** Probability that a request meets an injected fault. */
  faultRate: number;
  conflicts?: 'server-wins' | 'client-wins';
  /** Terminates the server's PostgreSQL backends (a chaos op when given). */
  killBackends?: () => Promise<void>;
}

export interface ChaosOutcome {
  seed: number;
  /** Devices whose tables differ from PostgreSQL (or have FK violations) after settling, with the differing tables. */
  divergent: string[];
  /** Devices whose last sync failed or that still have pending changes after settling. */
  stuck: string[];
  faults: Record<FaultKind, number>;
  stats: { ops: number; syncs: number; failedSyncs: number; reloads: number; serverWrites: number; pgKills: number; lost: number; conflicts: number; selfHeals: number };
  /** Distinct failure messages of syncs during the run (before settling). */
  failures: string[];
}

interface ChaosDevice {
  name: string;
  device: Device;
  engine: SyncEngine;
  offline: boolean;
  faults: FaultyFetch;
  lastError: string | null;
}

const FOLDERS = ['F0', 'F1', 'F2', 'F3', 'F4'];
const NOTES = ['N0', 'N1', 'N2', 'N3', 'N4'];
const PINS = ['P0', 'P1', 'P2'];
const LINKS = ['L0', 'L1', 'L2'];
const TEAMS = ['T0', 'T1', 'T2'];
const PEOPLE = ['Q0', 'Q1', 'Q2', 'Q3'];

/** The test's own queries meet the backends it terminated: a pooled connection fails once. */
async function retryOnce<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch {
    return await fn();
  }
}

export async function runChaos(world: World, opts: ChaosOptions): Promise<ChaosOutcome> {
  const rand = prng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const user = `chaos-${opts.seed}-${opts.conflicts ?? 'server-wins'}`;
  const stats = { ops: 0, syncs: 0, failedSyncs: 0, reloads: 0, serverWrites: 0, pgKills: 0, lost: 0, conflicts: 0, selfHeals: 0 };
  const failures = new Set<string>();
  const trace = process.env.OVERSQLITE_TRACE ? (m: string): void => console.log(m) : (): void => {};
  const listen = (e: SyncEvent): void => {
    if (e.type === 'lost') stats.lost++;
    else if (e.type === 'conflict') stats.conflicts++;
    else if (e.type === 'self_heal') stats.selfHeals++;
  };

  const devices: ChaosDevice[] = [];
  for (let i = 0; i < opts.devices; i++) {
    const faults = new FaultyFetch(prng(opts.seed + 7919 * (i + 1)), opts.faultRate);
    faults.enabled = false; // attach cleanly; faults start with the random phase
    const device = await world.device(user, { conflicts: opts.conflicts ?? 'server-wins', fetch: faults.fetch });
    const name = `device${i}`;
    device.engine.subscribe(listen);
    if (process.env.OVERSQLITE_TRACE) device.engine.subscribe((e) => e.type !== 'status' && trace(`${name} event ${JSON.stringify(e)}`));
    await device.engine.attach(user);
    devices.push({ name: `device${i}`, device, engine: device.engine, offline: false, faults, lastError: null });
  }
  for (const d of devices) d.faults.enabled = true;

  const sync = async (d: ChaosDevice): Promise<void> => {
    stats.syncs++;
    try {
      const res = await d.engine.sync();
      trace(`${d.name} sync ${JSON.stringify(res)}`);
      d.lastError = null;
    } catch (e) {
      trace(`${d.name} sync failed ${(e as Error).message} ${process.env.OVERSQLITE_TRACE === "stack" ? (e as Error).stack : ""}`);
      stats.failedSyncs++;
      d.lastError = `${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message}`;
      failures.add(d.lastError.replace(/[0-9a-f-]{36}|\d+/g, '#'));
    }
  };
  const write = (d: ChaosDevice, sql: string, bind: unknown[] = []): void => {
    trace(`${d.name} ${sql.slice(0, 30)} ${JSON.stringify(bind)}`);
    try {
      d.device.db.exec({ sql, bind: bind as never });
    } catch {
      // The app's own constraint said no (e.g. deleting a folder that still has pins): no change.
    }
    d.engine.notifyLocalWrite();
  };
  const existing = (d: ChaosDevice, table: string): string[] =>
    (d.device.db.exec({ sql: `SELECT id FROM ${table} ORDER BY id`, rowMode: 'array', returnValue: 'resultRows' }) as unknown[][]).map((r) => String(r[0]));

  for (let step = 0; step < opts.steps; step++) {
    const d = pick(devices);
    const r = rand();
    stats.ops++;
    const n = step;
    if (r < 0.1) {
      const folders = existing(d, 'folders');
      const parent = folders.length && rand() < 0.5 ? pick(folders) : null;
      const id = pick(FOLDERS);
      if (id !== parent) {
        write(d, 'INSERT INTO folders(id, parent_id, name) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name', [id, parent, `folder ${n}`]);
      }
    } else if (r < 0.2) {
      const folders = existing(d, 'folders');
      if (folders.length) write(d, 'INSERT INTO notes(id, folder_id, body) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body', [pick(NOTES), pick(folders), `note ${n}`]);
    } else if (r < 0.26) {
      const folders = existing(d, 'folders');
      if (folders.length) write(d, 'INSERT INTO pins(id, folder_id, label) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET label = excluded.label', [pick(PINS), pick(folders), `pin ${n}`]);
    } else if (r < 0.32) {
      const folders = existing(d, 'folders');
      const folder = folders.length && rand() < 0.8 ? pick(folders) : null;
      write(d, 'INSERT INTO links(id, folder_id, url) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET url = excluded.url, folder_id = excluded.folder_id', [pick(LINKS), folder, `https://x/${n}`]);
    } else if (r < 0.38) {
      write(d, 'INSERT INTO teams(id, name) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name', [pick(TEAMS), `team ${n}`]);
    } else if (r < 0.44) {
      const teams = existing(d, 'teams');
      if (teams.length) {
        const person = pick(PEOPLE);
        const team = pick(teams);
        write(d, 'INSERT INTO people(id, team_id, name) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET team_id = excluded.team_id, name = excluded.name', [person, team, `person ${n}`]);
        if (rand() < 0.5) write(d, 'UPDATE teams SET captain_id = ? WHERE id = ?', [person, team]);
      }
    } else if (r < 0.58) {
      const table = pick(['folders', 'folders', 'notes', 'pins', 'links', 'teams', 'people']);
      const ids = existing(d, table);
      if (ids.length) write(d, `DELETE FROM ${table} WHERE id = ?`, [pick(ids)]);
    } else if (r < 0.64) {
      d.offline = !d.offline;
      if (!d.offline) await sync(d);
    } else if (r < 0.655 && opts.killBackends) {
      // PostgreSQL backends terminated under the server (its pool reconnects), while other
      // devices' requests may be in flight.
      stats.pgKills++;
      const online = devices.filter((x) => !x.offline && x !== d);
      await Promise.all([
        ...online.map((x) => sync(x)),
        opts
          .killBackends()
          .catch(() => undefined),
      ]);
    } else if (r < 0.68) {
      // Reload: the app restarts (engine closed, opened again on the same database).
      stats.reloads++;
      await d.engine.close();
      d.engine = await d.device.reopen();
      d.engine.subscribe(listen);
      trace(`${d.name} reloaded`);
      if (process.env.OVERSQLITE_TRACE) d.engine.subscribe((e) => e.type !== 'status' && trace(`${d.name} event ${JSON.stringify(e)}`));
    } else if (r < 0.72) {
      // A server-originated write: rename a folder the server has, or add a note under it.
      const ids = (await retryOnce(() => world.server.database.query(`SELECT id FROM fkm.folders WHERE _sync_scope_id = $1 ORDER BY id`, [user])).then(
        (res) => (res.rows as { id: string }[]).map((x) => x.id),
        () => [] as string[], // the test's own connection was among the terminated ones
      ));
      if (ids.length) {
        const folder = pick(ids);
        const note = pick(NOTES);
        const rename = rand() < 0.5;
        try {
          await world.server.server.writeAs(user, '00000000-0000-4000-8000-00000000c4a0', async (tx) => {
            if (rename) await tx.query('UPDATE fkm.folders SET name = $1 WHERE _sync_scope_id = $2 AND id = $3', [`server ${n}`, user, folder]);
            else {
              await tx.query(
                'INSERT INTO fkm.notes(_sync_scope_id, id, folder_id, body) VALUES ($1, $2, $3, $4) ON CONFLICT (_sync_scope_id, id) DO UPDATE SET body = EXCLUDED.body, folder_id = EXCLUDED.folder_id',
                [user, note, folder, `server note ${n}`],
              );
            }
          });
          stats.serverWrites++;
        } catch {
          // a concurrent device commit got there first: no write
        }
      }
    } else if (r < 0.8) {
      const online = devices.filter((x) => !x.offline);
      await Promise.all(online.map((x) => sync(x)));
    } else if (!d.offline) {
      await sync(d);
    }
  }

  // Settle: no more faults, everyone online; rounds of syncs until a whole round committed
  // nothing and every device reached the same checkpoint (at most 8 rounds: more is stuck).
  for (const d of devices) {
    d.faults.enabled = false;
    d.offline = false;
  }
  for (let round = 0; round < 8; round++) {
    let quiet = true;
    for (const d of devices) {
      const before = d.engine.status.checkpoint;
      await sync(d);
      if (d.lastError !== null || d.engine.status.checkpoint !== before) quiet = false;
    }
    const checkpoints = new Set(devices.map((d) => d.engine.status.checkpoint));
    if (quiet && checkpoints.size === 1) break;
  }

  const server = await retryOnce(() => fkServer(world, user));
  const divergent: string[] = [];
  const stuck: string[] = [];
  for (const d of devices) {
    const local = fkLocal(d.device.db);
    if (JSON.stringify(local) !== JSON.stringify(server) || foreignKeyViolations(d.device.db) !== 0) {
      const tables = Object.keys(server).filter((t) => JSON.stringify(local[t]) !== JSON.stringify(server[t]));
      divergent.push(`${d.name}: ${tables.map((t) => `${t} local ${JSON.stringify(local[t])} server ${JSON.stringify(server[t])}`).join('; ')}`);
    }
    if (d.lastError !== null || d.engine.status.pendingCount !== 0) stuck.push(`${d.name}${d.lastError ? ` (${d.lastError})` : ` (${d.engine.status.pendingCount} pending)`}`);
  }
  const faults: Record<FaultKind, number> = { drop: 0, lost_response: 0, unavailable: 0, duplicate: 0, delay: 0 };
  for (const d of devices) for (const k of Object.keys(faults) as FaultKind[]) faults[k] += d.faults.injected[k];
  // Each run's devices are done: free their engines and in-memory databases, or a long job
  // (OVERSQLITE_CHAOS_RUNS=1000) runs the shared wasm heap out of memory after ~850 runs.
  for (const d of devices) {
    await d.engine.close().catch(() => {});
    d.device.db.close();
  }
  return { seed: opts.seed, divergent, stuck, faults, stats, failures: [...failures] };
}
