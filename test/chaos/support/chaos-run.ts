/**
 * One model-based chaos run: N Node devices of one user on the FK schema (folders with a self
 * reference and CASCADE, notes CASCADE, pins NO ACTION, links SET NULL, teams <-> people cycle)
 * doing seeded random operations: writes and deletes across the foreign keys, offline stretches,
 * reloads (the engine closed and opened again on the same database), concurrent syncs,
 * server-originated writes (`writeAs`), with transport faults injected on every device
 * (`faulty-fetch.ts`) and process faults: PostgreSQL backends terminated, the server process
 * SIGKILLed while a commit is in flight (and restarted), a tab closed in the middle of the app's
 * own write transaction or between the bundles of a pull, and a leader worker crashing around a
 * request (`crashable-device.ts`: each device is a real database file that outlives its engine).
 * Then faults stop, every device comes online and syncs a few rounds, and the properties are
 * checked: every device holds exactly PostgreSQL's rows with no FK violation (no divergence); the
 * last sync of every device succeeded with nothing left pending (no stuck device); every committed
 * local write reached the server or produced a conflict/lost event (`change-ledger.ts`); nothing
 * of a rolled-back transaction reached the server. No manual step (`hydrate()`) is ever taken.
 */
import { appendFileSync } from 'node:fs';
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import type { SyncEvent } from '../../../worker/engine/index.ts';
import type { World } from '../../engine-integration/support/devices.ts';
import { foreignKeyViolations } from '../../engine-integration/support/devices.ts';
import { FK_LOCAL_SQL, FK_LOCAL_TABLES, fkLocal, fkServer } from '../../engine-integration/support/fk-schema.ts';
import { ChangeLedger, ROLLED_BACK_MARK, rolledBackOnServer, serverHistory } from './change-ledger.ts';
import { CrashableDevice } from './crashable-device.ts';
import { FaultyFetch } from './faulty-fetch.ts';
import type { FaultKind } from './faulty-fetch.ts';
import type { FkServerProcess } from './fk-server-process.ts';
import { prng } from './prng.ts';
import { GroupCommit } from '../../../worker/database/group-commit.ts';
import type { SqlParams } from '../../../worker/database/types.ts';

export interface ChaosOptions {
  seed: number;
  devices: number;
  steps: number;
  /** Probability that a request meets an injected transport fault. */
  faultRate: number;
  /** Probability that a step injects a process fault (server kill, tab closed, leader crash). */
  processFaultRate: number;
  conflicts?: 'server-wins' | 'client-wins';
  sqlite3: Sqlite3Static;
  /** Terminates the server's PostgreSQL backends (a chaos op when given). */
  killBackends?: () => Promise<void>;
  /** The server as a child process devices talk to (killed mid-commit when given); else `world.server`. */
  serverProcess?: FkServerProcess;
}

/** Process faults: what a chaos run did to processes, counted when the fault actually struck. */
export type ProcessFaultKind = 'pg_kill' | 'server_kill_mid_commit' | 'tab_closed_mid_write' | 'tab_closed_mid_pull' | 'leader_crash';

export interface ChaosOutcome {
  seed: number;
  /** Devices whose tables differ from PostgreSQL (or have FK violations) after settling, with the differing tables. */
  divergent: string[];
  /** Devices whose last sync failed or that still have pending changes after settling. */
  stuck: string[];
  /** Committed local writes that neither reached the server nor produced a conflict/lost event. */
  unaccounted: string[];
  /** Writes of crash-rolled-back transactions found on the server or a device. */
  leaked: string[];
  faults: Record<FaultKind | ProcessFaultKind, number>;
  stats: {
    ops: number;
    syncs: number;
    failedSyncs: number;
    reloads: number;
    serverWrites: number;
    localWrites: number;
    lost: number;
    conflicts: number;
    selfHeals: number;
  };
  /** Distinct failure messages of syncs during the run (before settling). */
  failures: string[];
}

interface ChaosDevice {
  name: string;
  device: CrashableDevice;
  offline: boolean;
  faults: FaultyFetch;
  lastError: string | null;
  /** Armed tab-closed-mid-pull: crash when this many more bundles have been applied (0: not armed). */
  crashAfterBundles: number;
}

const FOLDERS = ['F0', 'F1', 'F2', 'F3', 'F4'];
const NOTES = ['N0', 'N1', 'N2', 'N3', 'N4'];
const PINS = ['P0', 'P1', 'P2'];
const LINKS = ['L0', 'L1', 'L2'];
const TEAMS = ['T0', 'T1', 'T2'];
const PEOPLE = ['Q0', 'Q1', 'Q2', 'Q3'];
/** Each connection's group commit (a reopened device has a new connection). */
const unitsOf = new WeakMap<Database, GroupCommit>();

/** One app write: a statement writing one row. */
interface ChaosWrite {
  table: string;
  key: string;
  sql: string;
  bind: unknown[];
}
const COMMIT = /\/sync\/push-sessions\/[^/]+\/commit$/;
const CREATE = /\/sync\/push-sessions$/;

/** A request that commits: the commit endpoint, or a one-request push (a create with rows and commit). */
function commits(url: string, init: RequestInit | undefined): boolean {
  return COMMIT.test(url) || (CREATE.test(url) && typeof init?.body === 'string' && init.body.includes('"commit":true'));
}

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
  const stats = { ops: 0, syncs: 0, failedSyncs: 0, reloads: 0, serverWrites: 0, localWrites: 0, lost: 0, conflicts: 0, selfHeals: 0 };
  const struck: Record<ProcessFaultKind, number> = {
    pg_kill: 0,
    server_kill_mid_commit: 0,
    tab_closed_mid_write: 0,
    tab_closed_mid_pull: 0,
    leader_crash: 0,
  };
  const failures = new Set<string>();
  const ledger = new ChangeLedger();
  const traceFile = process.env.OVERSQLITE_TRACE_FILE;
  const trace = traceFile
    ? (m: string): void => appendFileSync(traceFile, `${m}\n`)
    : process.env.OVERSQLITE_TRACE
      ? (m: string): void => console.log(m)
      : (): void => {};
  const count = (e: SyncEvent): void => {
    if (e.type === 'lost') stats.lost++;
    else if (e.type === 'conflict') stats.conflicts++;
    else if (e.type === 'self_heal') stats.selfHeals++;
  };
  const server = opts.serverProcess;

  const devices: ChaosDevice[] = [];
  for (let i = 0; i < opts.devices; i++) {
    const faults = new FaultyFetch(prng(opts.seed + 7919 * (i + 1)), opts.faultRate);
    faults.enabled = false; // attach cleanly; faults start with the random phase
    const name = `device${i}`;
    const listeners: ((e: SyncEvent) => void)[] = [count, ledger.listener(name)];
    if (process.env.OVERSQLITE_TRACE || traceFile)
      listeners.push((e) => e.type !== 'status' && trace(`${name} event ${JSON.stringify(e)}`));
    // Tab closed mid-pull: the connection goes between two bundles' transactions of one pull.
    listeners.push((e) => {
      const d = devices[i];
      if (e.type === 'applied' && d && d.crashAfterBundles > 0 && --d.crashAfterBundles === 0) {
        struck.tab_closed_mid_pull++;
        trace(`${name} tab closed mid-pull`);
        d.device.crash();
      }
    });
    const device = await CrashableDevice.create(
      opts.sqlite3,
      `/chaos-device-${i}.db`,
      FK_LOCAL_SQL,
      {
        remoteSchema: 'fkm',
        tables: FK_LOCAL_TABLES,
        serverUrl: server?.url ?? world.server.baseUrl,
        getToken: async () => world.server.tokenFor(user),
        conflicts: opts.conflicts ?? 'server-wins',
        fetch: faults.fetch,
      },
      listeners,
    );
    await device.engine.attach(user);
    ledger.noteSource(name, device.engine.status.sourceId);
    devices.push({ name, device, offline: false, faults, lastError: null, crashAfterBundles: 0 });
  }
  for (const d of devices) d.faults.enabled = true;

  const sync = async (d: ChaosDevice): Promise<void> => {
    if (d.device.crashed) return;
    stats.syncs++;
    if (process.env.OVERSQLITE_TRACE_DIRTY)
      trace(
        `${d.name} dirty before: ${JSON.stringify(d.device.db.exec({ sql: 'SELECT table_name, key_json, op FROM _sync_dirty_rows', rowMode: 'array', returnValue: 'resultRows' }))}`,
      );
    try {
      const res = await d.device.engine.sync();
      trace(`${d.name} sync ${JSON.stringify(res)}`);
      if (process.env.OVERSQLITE_TRACE_DIRTY)
        trace(
          `${d.name} dirty after: ${JSON.stringify(d.device.db.exec({ sql: 'SELECT table_name, key_json, op FROM _sync_dirty_rows', rowMode: 'array', returnValue: 'resultRows' }))}`,
        );
      d.lastError = null;
    } catch (e) {
      trace(`${d.name} sync failed ${(e as Error).message} ${process.env.OVERSQLITE_TRACE === 'stack' ? (e as Error).stack : ''}`);
      stats.failedSyncs++;
      d.lastError = `${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message}`;
      failures.add(d.lastError.replace(/[0-9a-f-]{36}|\d+/g, '#'));
    }
  };
  /**
   * One app write. Committed ones go into the ledger; inside a transaction a crash will roll back
   * (`doomed`) the text carries ROLLED_BACK_MARK and nothing is recorded.
   */
  const write = (
    d: ChaosDevice,
    step: number,
    table: string,
    key: string,
    sql: string,
    bind: unknown[],
    doomed: boolean,
  ): Promise<void> | undefined => {
    if (!doomed) return groupWrite(d, step, [[{ table, key, sql, bind }]]);
    trace(`${d.name} (doomed) ${sql.slice(0, 30)} ${JSON.stringify(bind)}`);
    try {
      d.device.db.exec({ sql, bind: bind as never });
    } catch {
      // The app's own constraint said no: no change (and the transaction goes anyway).
    }
    return undefined;
  };
  /**
   * Committed app writes go through the group commit (group-commit.ts), the LocalDatabase write
   * path: a group of units in one transaction (a savepoint each when there are several), a unit
   * of several statements collecting its captures and writing them set-based at its end. A group
   * is flushed at once, so the ledger reads the rows around it. A unit the database refuses (the
   * app's own constraint, e.g. deleting a folder that still has pins) changes nothing.
   */
  const groupWrite = async (d: ChaosDevice, step: number, units: ChaosWrite[][]): Promise<void> => {
    trace(`${d.name} ${units.map((u) => u.map((w) => `${w.sql.slice(0, 30)} ${JSON.stringify(w.bind)}`).join(' + ')).join(' | ')}`);
    const db = d.device.db;
    let group = unitsOf.get(db);
    if (!group)
      unitsOf.set(
        db,
        (group = new GroupCommit(
          opts.sqlite3,
          db,
          () => {},
          () => {},
        )),
      );
    const commit = group;
    await ledger.writeGroup(d.name, step, db, units, () => {
      const outcomes = units.map((u) => commit.submit({ statements: u.map((w) => ({ sql: w.sql, params: w.bind as SqlParams })) }));
      commit.flush();
      return Promise.all(outcomes).then((os) => os.map((o) => o.ok));
    });
    d.device.engine.notifyLocalWrite();
  };
  const existing = (d: ChaosDevice, table: string): string[] =>
    (d.device.db.exec({ sql: `SELECT id FROM ${table} ORDER BY id`, rowMode: 'array', returnValue: 'resultRows' }) as unknown[][]).map(
      (r) => String(r[0]),
    );
  /** A random app write on `d` (r in [0, 0.58) picks the kind); settles when a committed one has. */
  const appWrite = (d: ChaosDevice, step: number, r: number, doomed: boolean): Promise<void> | undefined => {
    const text = (what: string): string => `${what} ${step}${doomed ? ` ${ROLLED_BACK_MARK}` : ''}`;
    if (r < 0.1) {
      const folders = existing(d, 'folders');
      const parent = folders.length && rand() < 0.5 ? pick(folders) : null;
      const id = pick(FOLDERS);
      if (id !== parent) {
        return write(
          d,
          step,
          'folders',
          id,
          'INSERT INTO folders(id, parent_id, name) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name',
          [id, parent, text('folder')],
          doomed,
        );
      }
    } else if (r < 0.2) {
      const folders = existing(d, 'folders');
      const id = pick(NOTES);
      if (folders.length)
        return write(
          d,
          step,
          'notes',
          id,
          'INSERT INTO notes(id, folder_id, body) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body',
          [id, pick(folders), text('note')],
          doomed,
        );
    } else if (r < 0.26) {
      const folders = existing(d, 'folders');
      const id = pick(PINS);
      if (folders.length)
        return write(
          d,
          step,
          'pins',
          id,
          'INSERT INTO pins(id, folder_id, label) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET label = excluded.label',
          [id, pick(folders), text('pin')],
          doomed,
        );
    } else if (r < 0.32) {
      const folders = existing(d, 'folders');
      const folder = folders.length && rand() < 0.8 ? pick(folders) : null;
      const id = pick(LINKS);
      return write(
        d,
        step,
        'links',
        id,
        'INSERT INTO links(id, folder_id, url) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET url = excluded.url, folder_id = excluded.folder_id',
        [id, folder, text('https://x/')],
        doomed,
      );
    } else if (r < 0.38) {
      const id = pick(TEAMS);
      return write(
        d,
        step,
        'teams',
        id,
        'INSERT INTO teams(id, name) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name',
        [id, text('team')],
        doomed,
      );
    } else if (r < 0.44) {
      const teams = existing(d, 'teams');
      if (teams.length) {
        const person = pick(PEOPLE);
        const team = pick(teams);
        const join = {
          table: 'people',
          key: person,
          sql: 'INSERT INTO people(id, team_id, name) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET team_id = excluded.team_id, name = excluded.name',
          bind: [person, team, text('person')],
        };
        const captain = { table: 'teams', key: team, sql: 'UPDATE teams SET captain_id = ? WHERE id = ?', bind: [person, team] };
        if (rand() < 0.5) {
          // The person and the captaincy together: one unit of two statements, or (odd steps) two
          // units of one group.
          if (!doomed) return groupWrite(d, step, step % 2 === 0 ? [[join, captain]] : [[join], [captain]]);
          write(d, step, join.table, join.key, join.sql, join.bind, doomed);
          write(d, step, captain.table, captain.key, captain.sql, captain.bind, doomed);
        } else return write(d, step, join.table, join.key, join.sql, join.bind, doomed);
      }
    } else {
      const table = pick(['folders', 'folders', 'notes', 'pins', 'links', 'teams', 'people']);
      const ids = existing(d, table);
      if (ids.length) {
        const id = pick(ids);
        return write(d, step, table, id, `DELETE FROM ${table} WHERE id = ?`, [id], doomed);
      }
    }
  };

  /** A process fault on `d` (or the server), armed or struck now. */
  const processFault = async (d: ChaosDevice, step: number): Promise<void> => {
    const kinds: ProcessFaultKind[] = [
      'tab_closed_mid_write',
      'tab_closed_mid_pull',
      'leader_crash',
      ...(server ? (['server_kill_mid_commit'] as const) : []),
    ];
    const kind = pick(kinds);
    if (kind === 'tab_closed_mid_write') {
      // The app is inside its own transaction when the tab goes: none of it may survive.
      d.device.db.exec('BEGIN');
      const writes = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < writes; j++) appWrite(d, step, rand() * 0.58, true);
      struck.tab_closed_mid_write++;
      trace(`${d.name} tab closed mid-write`);
      d.device.crash();
    } else if (kind === 'tab_closed_mid_pull') {
      d.crashAfterBundles = 1 + Math.floor(rand() * 3);
      if (!d.offline) await sync(d);
    } else if (kind === 'leader_crash') {
      // The worker dies around its n-th request of a sync: before it is sent, or after the
      // response arrived but before the engine could record it (e.g. a commit's result).
      const nth = 1 + Math.floor(rand() * 4);
      const afterResponse = rand() < 0.6;
      let seen = 0;
      d.faults.intercept = async (url, _init, send) => {
        if (++seen < nth) return send();
        d.faults.intercept = null;
        struck.leader_crash++;
        trace(`${d.name} leader crash ${afterResponse ? 'after' : 'before'} ${url}`);
        if (!afterResponse) {
          d.device.crash();
          throw new TypeError('chaos: the leader worker crashed');
        }
        const res = await send();
        d.device.crash();
        return res;
      };
      if (!d.offline) await sync(d);
    } else if (server) {
      // SIGKILL while this device's commit request is in flight: before, during or after the
      // commit's transaction, as the delay falls.
      const delayMs = Math.floor(rand() * 12);
      d.faults.intercept = async (url, init, send) => {
        if (!commits(url, init)) return send();
        d.faults.intercept = null;
        const res = send();
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        struck.server_kill_mid_commit++;
        trace(`${d.name} server killed ${delayMs} ms into a commit`);
        server.kill();
        return res;
      };
      if (!d.offline) await Promise.all(devices.filter((x) => !x.offline).map((x) => sync(x)));
    }
  };

  for (let step = 0; step < opts.steps; step++) {
    const d = pick(devices);
    const r = rand();
    stats.ops++;
    if (r < 0.58) {
      await appWrite(d, step, r, false);
    } else if (r < 0.64) {
      d.offline = !d.offline;
      if (!d.offline) await sync(d);
    } else if (r < 0.655 && opts.killBackends) {
      // PostgreSQL backends terminated under the server (its pool reconnects), while other
      // devices' requests may be in flight.
      struck.pg_kill++;
      const online = devices.filter((x) => !x.offline && x !== d);
      await Promise.all([...online.map((x) => sync(x)), opts.killBackends().catch(() => undefined)]);
    } else if (r < 0.68) {
      // Reload: the app restarts (engine closed, opened again on the same database).
      stats.reloads++;
      await d.device.reload();
      trace(`${d.name} reloaded`);
    } else if (r < 0.72) {
      await serverWrite(step);
    } else if (r < 0.72 + opts.processFaultRate) {
      await processFault(d, step);
    } else if (r < 0.8 + opts.processFaultRate) {
      const online = devices.filter((x) => !x.offline);
      await Promise.all(online.map((x) => sync(x)));
    } else if (!d.offline) {
      await sync(d);
    }
    // A crashed tab's database is opened again by the next tab; a killed server is restarted.
    for (const x of devices) {
      if (x.device.crashed) {
        await x.device.reopen();
        ledger.noteSource(x.name, x.device.engine.status.sourceId);
        trace(`${x.name} reopened after a crash`);
      }
    }
    await server?.ready;
  }

  async function serverWrite(n: number): Promise<void> {
    // A server-originated write: rename a folder the server has, or add a note under it.
    const ids = await retryOnce(() =>
      world.server.database.query(`SELECT id FROM fkm.folders WHERE _sync_scope_id = $1 ORDER BY id`, [user]),
    ).then(
      (res) => (res.rows as { id: string }[]).map((x) => x.id),
      () => [] as string[], // the test's own connection was among the terminated ones
    );
    if (!ids.length) return;
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

  // Settle: no more faults, everyone online; rounds of syncs until a whole round committed
  // nothing and every device reached the same checkpoint (at most 8 rounds: more is stuck).
  for (const d of devices) {
    d.faults.enabled = false;
    d.faults.intercept = null;
    d.crashAfterBundles = 0;
    d.offline = false;
  }
  await server?.ready;
  for (let round = 0; round < 8; round++) {
    let quiet = true;
    for (const d of devices) {
      const before = d.device.engine.status.checkpoint;
      await sync(d);
      if (d.lastError !== null || d.device.engine.status.checkpoint !== before) quiet = false;
    }
    const checkpoints = new Set(devices.map((d) => d.device.engine.status.checkpoint));
    if (quiet && checkpoints.size === 1) break;
  }

  const finalRows = await retryOnce(() => fkServer(world, user));
  const history = await retryOnce(() => serverHistory(world.server.database, user));
  const divergent: string[] = [];
  const stuck: string[] = [];
  const leaked = rolledBackOnServer(history);
  for (const d of devices) {
    const local = fkLocal(d.device.db);
    if (JSON.stringify(local) !== JSON.stringify(finalRows) || foreignKeyViolations(d.device.db) !== 0) {
      const tables = Object.keys(finalRows).filter((t) => JSON.stringify(local[t]) !== JSON.stringify(finalRows[t]));
      divergent.push(
        `${d.name}: ${tables.map((t) => `${t} local ${JSON.stringify(local[t])} server ${JSON.stringify(finalRows[t])}`).join('; ')}`,
      );
    }
    if (JSON.stringify(local).includes(ROLLED_BACK_MARK)) leaked.push(`${d.name} holds a rolled-back write`);
    if (d.lastError !== null || d.device.engine.status.pendingCount !== 0)
      stuck.push(`${d.name}${d.lastError ? ` (${d.lastError})` : ` (${d.device.engine.status.pendingCount} pending)`}`);
  }
  if (traceFile) {
    for (const h of history) trace(`history ${h.seq} ${h.source.slice(0, 8)} ${h.table}/${h.key} op${h.op} ${JSON.stringify(h.payload)}`);
    for (const d of devices) trace(`source ${d.name} ${d.device.engine.status.sourceId.slice(0, 8)}`);
    trace(`divergent ${JSON.stringify(divergent)}`);
  }
  const unaccounted = ledger.unaccounted(history, finalRows);
  stats.localWrites = ledger.recorded;
  const faults: Record<FaultKind | ProcessFaultKind, number> = {
    drop: 0,
    lost_response: 0,
    cut_body: 0,
    unavailable: 0,
    duplicate: 0,
    delay: 0,
    ...struck,
  };
  for (const d of devices) for (const k of Object.keys(d.faults.injected) as FaultKind[]) faults[k] += d.faults.injected[k];
  // Each run's devices are done: free their engines and empty their files, or a long job
  // (OVERSQLITE_CHAOS_RUNS=1000) runs the shared wasm heap out of memory.
  for (const d of devices) await d.device.dispose();
  return { seed: opts.seed, divergent, stuck, unaccounted, leaked, faults, stats, failures: [...failures] };
}
