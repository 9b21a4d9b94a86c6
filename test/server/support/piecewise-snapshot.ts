/**
 * Shared setup of the piecewise snapshot build tests (server `snapshotBuildPieceRows`): a user
 * whose rows span three tables so the build's pieces can be held at a table boundary with a
 * real PostgreSQL lock, and the reads those tests make.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect } from 'vitest';
import type { PushRow } from '../../../protocol/wire.ts';
import type { SqlDatabase } from '../../../server/database/types.ts';
import { createSyncServer } from '../../../server/index.ts';
import { BUILD_LOCK_CLASS } from '../../../server/runtime/snapshot-piecewise-build.ts';
import type { SyncServer } from '../../../server/index.ts';
import { SAMPLE_TABLES } from '../../harness/sample-schema.ts';
import { RawSyncClient } from '../../harness/sync-client.ts';
import { startSyncServer } from '../../harness/sync-server.ts';
import type { StartSyncServerOptions, StartedSyncServer } from '../../harness/sync-server.ts';

/** The first piece (built before the create answers); later pieces grow 2×, at most 4× this. */
export const PIECE_ROWS = 100;

/**
 * In snapshot order (tables by name): 150 projects (ordinals 1–150: the first piece and part of
 * the second), 40 tags (151–190, rendered in Node: a json column), 20 tasks (191–210, floats of
 * which every other one is rendered in Node, bytea, timestamps), 30 users (211–240). A lock on
 * `business.tags` holds the build after the projects, the create answered.
 */
export const PROJECTS = 150;
export const TAGS = 40;
export const TASKS = 20;
export const USERS = 30;
export const TOTAL = PROJECTS + TAGS + TASKS + USERS;

/** Pushes the user's rows from device-1 and returns that device. */
export async function seedUser(h: StartedSyncServer, userId: string): Promise<RawSyncClient> {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor(userId), 'device-1');
  expect((await dev.connect(false)).status).toBe(200);
  const users: PushRow[] = Array.from({ length: USERS }, (_, i) => {
    const id = randomUUID();
    return {
      schema: 'business',
      table: 'users',
      key: { id },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id, name: `user ${i}`, email: i % 3 ? `u${i}@example.com` : null, created_at: '2026-03-24T18:42:11Z' },
    };
  });
  const owner = (users[0]!.key as { id: string }).id;
  const projects: PushRow[] = Array.from({ length: PROJECTS }, (_, i) => {
    const id = randomUUID();
    return {
      schema: 'business',
      table: 'projects',
      key: { id },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id, owner_id: owner, title: `project ${i}`, budget: `${i}.50`, archived: i % 2 === 0 },
    };
  });
  const project = (projects[0]!.key as { id: string }).id;
  const tasks: PushRow[] = Array.from({ length: TASKS }, (_, i) => {
    const id = randomUUID();
    return {
      schema: 'business',
      table: 'tasks',
      key: { id },
      op: 'INSERT',
      base_row_version: 0,
      payload: {
        id,
        project_id: project,
        title: `task ${i}`,
        done: i % 2 ? '1' : '0',
        priority: String(i * 1000),
        estimate_hours: i % 2 ? '1e-7' : '2.5',
        attachment: i % 3 ? 'AAEC' : null,
        due_at: i % 4 ? '2026-03-24T18:42:11.123Z' : null,
      },
    };
  });
  const tags: PushRow[] = Array.from({ length: TAGS }, (_, i) => tagRow(`tag-${String(i).padStart(3, '0')}`, i, 'INSERT', 0));
  expect((await dev.push(1, [...users, ...projects, ...tasks])).status).toBe(200);
  expect((await dev.push(2, tags)).status).toBe(200);
  return dev;
}

/** A tags row (its `meta` json makes every tags row rendered in Node). */
export function tagRow(name: string, weight: number, op: 'INSERT' | 'UPDATE', base: number): PushRow {
  return {
    schema: 'business',
    table: 'tags',
    key: { name },
    op,
    base_row_version: base,
    payload: { name, color: weight % 2 ? 'red' : null, weight: String(weight), meta: { w: weight, note: 'a "quoted" note' } },
  };
}

/** Holds `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` on a connection of its own until released. */
export async function lockTable(h: StartedSyncServer, table: string): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: h.testDatabase.connectionString! });
  await c.connect();
  await c.query(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    async release() {
      await c.query('COMMIT');
      await c.end();
    },
  };
}

/** The highest row ordinal committed to a session's table (0 when empty or gone). */
export async function builtThrough(h: StartedSyncServer, snapshotId: string): Promise<number> {
  const table = `sync.snapshot_rows_${snapshotId.replace(/-/g, '')}`;
  const exists = await h.database.query<{ e: boolean }>('SELECT to_regclass($1) IS NOT NULL AS e', [table]);
  if (!exists.rows[0]!.e) return 0;
  const r = await h.database.query<{ n: string }>(`SELECT coalesce(max(row_ordinal), 0)::text AS n FROM ${table}`);
  return Number(r.rows[0]!.n);
}

/** Polls `check` every 20 ms until it holds (at most `ms`). */
export async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Build pieces (their INSERTs) of the test database waiting on a lock now. */
export async function piecesWaitingOnLock(h: StartedSyncServer): Promise<number> {
  const r = await h.database.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO sync.%snapshot_rows_%'`,
  );
  return r.rows[0]!.n;
}

/** Whether a snapshot build is blocked on a lock (its piece waits in PostgreSQL). */
export async function buildWaitsOnLock(h: StartedSyncServer): Promise<boolean> {
  return (await piecesWaitingOnLock(h)) > 0;
}

/** Whether any snapshot build of the test database still holds its lock (`BUILD_LOCK_CLASS`). */
export async function buildLockHeld(h: StartedSyncServer): Promise<boolean> {
  const r = await h.database.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.classid = $1 AND a.datname = current_database()`,
    [BUILD_LOCK_CLASS],
  );
  return r.rows[0]!.n > 0;
}

/** Reads every chunk of a session from the start (`max_rows` per request); fails on any non-200. */
export async function readAllChunks(dev: RawSyncClient, snapshotId: string, maxRows = 50): Promise<{ rows: unknown[]; seq: number }> {
  const rows: unknown[] = [];
  let after = 0;
  let seq = -1;
  for (;;) {
    const r = await dev.snapshotChunk(snapshotId, `?after_row_ordinal=${after}&max_rows=${maxRows}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    rows.push(...r.body.rows);
    seq = r.body.snapshot_bundle_seq;
    after = r.body.next_row_ordinal;
    if (!r.body.has_more) return { rows, seq };
  }
}

/** A second server instance on the same database (as another process of a multi-process server). */
export function secondInstance(h: StartedSyncServer, limits: Record<string, number> = {}): Promise<SyncServer> {
  return createSyncServer({
    database: h.database,
    tables: SAMPLE_TABLES,
    wireDialect: 'jcs-numeric-strings',
    limits: { snapshotBuildPieceRows: PIECE_ROWS, ...limits },
  });
}

/**
 * A server for the tests of a build that stops: `pool`, its database counting the connections
 * checked out of it (a stopped build must leave none), and `internalErrors`, what it reported.
 */
export async function startWatchedBuildServer(
  purpose: string,
  limits: StartSyncServerOptions['limits'] = {},
): Promise<{ h: StartedSyncServer; pool: ReturnType<typeof countingCheckouts>; internalErrors: unknown[] }> {
  const internalErrors: unknown[] = [];
  let pool!: ReturnType<typeof countingCheckouts>;
  const h = await startSyncServer({
    purpose,
    limits: { snapshotBuildPieceRows: PIECE_ROWS, ...limits },
    onInternalError: (err) => internalErrors.push(err),
    wrapDatabase: (db) => (pool = countingCheckouts(db)),
  });
  return { h, pool, internalErrors };
}

/**
 * `db` counting its checked-out connections (`checkedOut()`), for `startSyncServer`'s
 * `wrapDatabase`: a stopped build must leave none.
 */
export function countingCheckouts(db: SqlDatabase): SqlDatabase & { checkedOut(): number } {
  let out = 0;
  return {
    kind: db.kind,
    query: (text, params) => db.query(text, params),
    listen: (channel, onNotify, onError) => db.listen(channel, onNotify, onError),
    close: () => db.close(),
    async withConnection(fn) {
      out++;
      try {
        return await db.withConnection(fn);
      } finally {
        out--;
      }
    },
    checkedOut: () => out,
  };
}
