/**
 * A snapshot build answered before its end (sessions above `snapshotBuildPieceRows` live rows,
 * on PostgreSQL): the create's transaction builds the first piece and hands its exported snapshot
 * to a holder transaction on another connection; the rest is built in key-range pieces on
 * `BUILD_CONNECTIONS` connections that each import that snapshot, committed in order, while
 * chunk reads wait for the rows they need (`snapshot-sessions.ts`). See docs/server.md.
 */
import type { SqlSession } from '../database/types.ts';
import { quoteLiteral } from './catalog.ts';
import type { CatalogTable } from './catalog.ts';
import type { RuntimeContext } from './context.ts';
import {
  BUILD_SETTINGS_SQL,
  BUILD_SORT_MAX_KB,
  SESSION_COLUMNS,
  SESSION_TABLE_OPTIONS,
  checkRowBytes,
  materializeSelectSql,
  renderRowsInNode,
  sizeSessionRows,
  sqlRowPrefix,
  sweepSnapshots,
} from './snapshot-build.ts';
import type { BuildTarget, KeyRangeParams } from './snapshot-build.ts';
import { SyncServerError, pgErrorCode } from './sync-error.ts';

/**
 * Advisory lock class (the two-int4 key space, apart from the users' bigint locks) held, with the
 * hash of the session id, by a build still running after its create was answered: a chunk read
 * that finds the lock free and the rows not built knows the build died with its process.
 */
export const BUILD_LOCK_CLASS = 1_870_033_774;

/**
 * Sort memory of a piece, per row: one process sorts the whole piece with its texts (an INSERT
 * gets no parallel workers), ~380 B a row for the bench's ~300 B texts; spilled to disk, a
 * 200,000-row piece took 1.57 s, in memory 1.03–1.29 s.
 */
const PIECE_SORT_BYTES_PER_ROW = 512;

/**
 * Connections building pieces at once after the answer (besides the holder's): one process per
 * piece (an INSERT gets no parallel workers), so two keep up with a client on two cores where
 * one fell behind under load (BENCHMARKS.md, session 17).
 */
const BUILD_CONNECTIONS = 2;

/** Each background piece is twice the previous one, at most this many times the first. */
const MAX_PIECE_FACTOR = 4;

/** Live rows of each registered table of the user, in catalog order, with the ordinal its rows start after. */
interface LiveTable {
  table: CatalogTable;
  live: number;
  offset: number;
}

export async function countLiveRows(ctx: RuntimeContext, tx: SqlSession, userPk: string): Promise<LiveTable[]> {
  const r = await tx.query<{ table_id: number; n: string }>(
    'SELECT table_id, count(*)::text AS n FROM sync.row_state WHERE user_pk = $1 AND NOT deleted GROUP BY table_id',
    [userPk],
  );
  const counts = new Map(r.rows.map((x) => [x.table_id, Number(x.n)]));
  let offset = 0;
  return ctx.catalog.tables.map((table) => {
    const live = counts.get(table.tableId) ?? 0;
    const t = { table, live, offset };
    offset += live;
    return t;
  });
}

/** One piece: the key range (after, through] of a table, its first ordinal (exclusive) and its row count. */
interface PieceSpec {
  index: number;
  table: LiveTable;
  after: string | null;
  through: string | null;
  first: number;
  rows: number;
}

/**
 * Where a piecewise build is: the table it is in, the last key claimed there, and the rows
 * claimed (so the next piece's first ordinal is `claimed + 1`). Pieces are claimed one at a time
 * (their bounds follow each other) and may then be built at once on several connections.
 */
class PieceCursor {
  #index = 0;
  #afterKey: string | null = null;
  #doneInTable = 0;
  #pieces = 0;
  #claiming: Promise<unknown> = Promise.resolve();

  /** The index the next claimed piece gets. */
  get nextIndex(): number {
    return this.#pieces;
  }
  claimed = 0;
  bytes = 0;

  constructor(private readonly tables: readonly LiveTable[]) {
    this.#skipEmpty();
  }

  get done(): boolean {
    return this.#index >= this.tables.length;
  }

  #skipEmpty(): void {
    while (this.#index < this.tables.length && this.#doneInTable >= this.tables[this.#index]!.live) {
      this.#index++;
      this.#afterKey = null;
      this.#doneInTable = 0;
    }
  }

  /**
   * Claims the next at most `limit` rows of the current table, reading the session's snapshot in
   * `tx`: the key range after the last one claimed through the `limit`-th live key after it in
   * row_state's key order, so the range holds exactly that many live rows and its ordinals follow
   * on. Null when every row is claimed. Claims run one after another.
   */
  claim(tx: SqlSession, userPk: string, limit: number, lockTable?: string): Promise<PieceSpec | null> {
    const claimed = this.#claiming.then(() => this.#claim(tx, userPk, limit, lockTable));
    this.#claiming = claimed.catch(() => undefined);
    return claimed;
  }

  async #claim(tx: SqlSession, userPk: string, limit: number, lockTable: string | undefined): Promise<PieceSpec | null> {
    if (this.done) return null;
    // Pieces built at once take the session table's lock in their order: a DROP (DELETE, sweep)
    // queued between them then waits only for earlier pieces, never for one that waits to commit
    // after a piece queued behind the DROP.
    if (lockTable) await tx.query(`LOCK TABLE ${lockTable} IN ROW EXCLUSIVE MODE`);
    const t = this.tables[this.#index]!;
    const remaining = t.live - this.#doneInTable;
    let through: string | null = null;
    let rows = remaining;
    if (remaining > limit) {
      const after = this.#afterKey === null ? '' : ' AND key_text > $4';
      const boundary = await tx.query<{ k: string }>(
        `SELECT key_text AS k FROM sync.row_state WHERE user_pk = $1 AND table_id = $2 AND NOT deleted${after} ORDER BY key_text OFFSET $3 LIMIT 1`,
        this.#afterKey === null ? [userPk, t.table.tableId, limit - 1] : [userPk, t.table.tableId, limit - 1, this.#afterKey],
      );
      through = boundary.rows[0]?.k ?? null;
      if (through === null) throw new Error(`snapshot piece of ${t.table.qualifiedName}: fewer live row versions than counted`);
      rows = limit;
    }
    const spec: PieceSpec = { index: this.#pieces++, table: t, after: this.#afterKey, through, first: t.offset + this.#doneInTable, rows };
    this.claimed += rows;
    this.#doneInTable += rows;
    this.#afterKey = through;
    this.#skipEmpty();
    return spec;
  }
}

/**
 * Writes piece `spec` into the session table in `tx` (which reads the session's snapshot), checks
 * its row count, sizes its rows and renders those SQL left to Node; returns its bytes.
 */
async function buildPiece(ctx: RuntimeContext, tx: SqlSession, target: BuildTarget, spec: PieceSpec): Promise<number> {
  const t = spec.table;
  const params: unknown[] = [target.snapshotId, spec.first, t.table.tableId, target.userPk, target.userId];
  const range: KeyRangeParams = {};
  if (spec.after !== null) range.after = `$${params.push(spec.after)}::text`;
  if (spec.through !== null) range.through = `$${params.push(spec.through)}::text`;
  await tx.query(`SELECT set_config('work_mem', $1::text || 'kB', true)`, [
    Math.min(Math.max(Math.ceil((spec.rows * PIECE_SORT_BYTES_PER_ROW) / 1024), 4096), BUILD_SORT_MAX_KB),
  ]);
  const select = materializeSelectSql(t.table, target.utf8 ? sqlRowPrefix(t.table) : null, range);
  const written = await tx.query(`INSERT INTO ${target.rowsTable} SELECT * FROM (${select}) s WHERE $1::uuid IS NOT NULL`, params);
  if (written.rowCount !== spec.rows) {
    throw new Error(
      `snapshot piece of ${t.table.qualifiedName} has ${written.rowCount} live rows but ${spec.rows} live row versions; refusing an inconsistent snapshot`,
    );
  }
  const sized = await sizeSessionRows(tx, target.rowsTable, { after: spec.first, through: spec.first + spec.rows });
  checkRowBytes(ctx, sized.max);
  let bytes = sized.bytes;
  if (sized.plain < spec.rows) bytes += await renderRowsInNode(ctx, tx, target.rowsTable, spec.first);
  return bytes;
}

/**
 * Lets pieces built at once commit in their order, so the session's highest committed ordinal
 * always ends a prefix of built rows (what chunk reads rely on). After a failure no later piece
 * commits.
 */
class CommitOrder {
  constructor(next: number) {
    this.#next = next;
  }

  #next: number;
  #waiting = new Map<number, { resolve: () => void; reject: (err: unknown) => void }>();
  #failure: { err: unknown } | null = null;

  /** Resolves when piece `index` may commit (every earlier piece has). */
  turn(index: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.err);
    if (index === this.#next) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiting.set(index, { resolve, reject }));
  }

  committed(index: number): void {
    this.#next = index + 1;
    const w = this.#waiting.get(this.#next);
    this.#waiting.delete(this.#next);
    w?.resolve();
  }

  fail(err: unknown): void {
    if (!this.#failure) this.#failure = { err };
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }
}

/**
 * Starts a build answered before its end, in the create's transaction (which holds the user's
 * lock, so the user's rows do not move while it runs): creates the session table with its
 * primary key, exports the transaction's snapshot and has a holder transaction on another
 * connection import it (and take the build's lock) before this one commits, then builds the
 * first `snapshotBuildPieceRows` rows here. The rest is built by `BackgroundBuild.run` in pieces
 * that each import the holder's snapshot, so every piece reads the same rows as this
 * transaction did, consistent with the session's `snapshot_bundle_seq`.
 */
export async function startPiecewiseBuild(
  ctx: RuntimeContext,
  tx: SqlSession,
  target: BuildTarget & { tables: LiveTable[]; rowCount: number },
): Promise<BackgroundBuild> {
  await tx.query(`CREATE UNLOGGED TABLE ${target.rowsTable} (${SESSION_COLUMNS}, PRIMARY KEY (row_ordinal)) ${SESSION_TABLE_OPTIONS}`);
  const exported = (await tx.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
  const holder = await holdSnapshot(ctx, exported, target.snapshotId);
  try {
    const cursor = new PieceCursor(target.tables);
    const first = ctx.limits.snapshotBuildPieceRows;
    for (let spec; cursor.claimed < first && (spec = await cursor.claim(tx, target.userPk, first - cursor.claimed));)
      cursor.bytes += await buildPiece(ctx, tx, target, spec);
    return new BackgroundBuild(ctx, target, holder, cursor);
  } catch (err) {
    await holder.close();
    throw err;
  }
}

/**
 * Cancels the statements of the pieces in progress of the build of session table `rowsTable`, in
 * any process: they hold that table in ROW EXCLUSIVE mode (nothing else does: chunk reads read
 * it, the create's transaction has committed), so a DROP would wait for them (seconds, or as long
 * as a piece waits on a lock). Each cancelled piece rolls back and its build stops (`#stop`).
 * Backends of other roles are left alone (not ours to signal).
 */
export async function cancelBuildPieces(tx: SqlSession, rowsTable: string): Promise<void> {
  await tx.query(
    `SELECT pg_cancel_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'relation' AND l.relation = to_regclass($1) AND l.mode = 'RowExclusiveLock' AND l.granted
        AND a.datname = current_database() AND l.pid <> pg_backend_pid() AND a.usename = current_user`,
    [rowsTable],
  );
}

/** A transaction on a connection of its own keeping a build's snapshot importable and its lock held. */
interface SnapshotHolder {
  /** The snapshot as exported by the holder (importable while it runs). */
  name: string;
  close(): Promise<void>;
}

/**
 * Opens the holder of snapshot `imported` (exported by a transaction still running) for session
 * `snapshotId`. A second pooled connection, taken while the create's is held: builds are few
 * (`maxConcurrentSnapshotBuilds`) and the pool's checkout times out, so this cannot wait forever.
 */
function holdSnapshot(ctx: RuntimeContext, imported: string, snapshotId: string): Promise<SnapshotHolder> {
  return new Promise<SnapshotHolder>((resolve, reject) => {
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    let opened = false;
    const held = ctx.db.withConnection(async (c) => {
      // The BEGIN is inside the try: a failed import leaves its transaction open (aborted), and
      // the connection must not go back to the pool so.
      try {
        await c.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT ${quoteLiteral(imported)}`);
        const r = await c.query<{ s: string }>(
          `SELECT pg_export_snapshot() AS s, pg_advisory_xact_lock(${BUILD_LOCK_CLASS}, hashtext(${quoteLiteral(snapshotId)}))::text`,
        );
        opened = true;
        resolve({
          name: r.rows[0]!.s,
          close: async () => {
            finish();
            await held.catch(() => {});
          },
        });
        await finished;
      } finally {
        await c.query('ROLLBACK').catch(() => {});
      }
    });
    held.catch((err: unknown) => {
      if (!opened) reject(err);
    });
  });
}

/** Why a build stops when the server closes (stored as its `build_error`, answered to its reads). */
function shutdownError(): SyncServerError {
  return new SyncServerError('snapshot_session_create_failed', 'the server is shutting down; create a new snapshot session');
}

/** Error text stored for a build that stopped for a reason not meant for clients (logged instead). */
const BUILD_FAILED_MESSAGE = 'the snapshot build failed after the session was created; create a new session';

/** The part of a piecewise build after the create was answered. */
export class BackgroundBuild {
  constructor(
    private readonly ctx: RuntimeContext,
    private readonly target: BuildTarget & { rowCount: number },
    private readonly holder: SnapshotHolder,
    private readonly cursor: PieceCursor,
  ) {}

  /** Stops a running build now (`run` started): see {@link BackgroundBuild.interrupt}. */
  #interrupt: ((err: unknown) => void) | null = null;

  /** Gives up before the create committed (its transaction rolls back the session). */
  abandon(): Promise<void> {
    return this.holder.close();
  }

  /**
   * The server is closing: stops the build at once as at a failure (its pieces in progress are
   * cancelled, not waited for: one may wait on a lock for as long as another transaction holds
   * it), records why for its chunk reads and wakes them. `run` then settles.
   */
  interrupt(): void {
    this.#interrupt?.(shutdownError());
  }

  /**
   * Builds the remaining pieces, each in a transaction of its own that imports the holder's
   * snapshot and commits (waking this instance's chunk reads), then records `byte_count` and
   * sweeps. The first failure stops the build at once (`#stop`): it is stored as the session's
   * `build_error`, which chunk reads answer with; a session deleted or swept meanwhile just ends
   * the build. Never rejects. `release` frees the build's capacity slot at the end.
   */
  async run(release: () => void): Promise<void> {
    const { ctx, target, cursor } = this;
    const id = target.snapshotId;
    let size = ctx.limits.snapshotBuildPieceRows;
    const largest = size * MAX_PIECE_FACTOR;
    const order = new CommitOrder(cursor.nextIndex);
    const open = new Set<OpenPiece>();
    let stopped: Promise<void> | null = null;
    const stop = (err: unknown, own?: OpenPiece): void => {
      if (stopped) return;
      order.fail(err);
      stopped = this.#stop(
        err,
        [...open].filter((p) => p !== own),
      );
    };
    this.#interrupt = stop;
    // Each builder claims the next piece, builds it, waits for the pieces before it to commit, commits.
    const builder = () =>
      ctx.db.withConnection(async (c) => {
        // A statement of this builder after the build stopped fails without running.
        const piece: SqlSession = {
          query: (text, params) => (stopped ? Promise.reject(new Error('snapshot build stopped')) : c.query(text, params)),
        };
        while (!stopped) {
          let opened: OpenPiece | undefined;
          // The BEGIN is inside the try: a failed snapshot import (holder gone) leaves an aborted
          // transaction open, and the connection must not go back to the pool so.
          try {
            const began = await piece.query<OpenPiece>(
              `BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT ${quoteLiteral(this.holder.name)}; ` +
                `SELECT set_config('TimeZone', 'UTC', true); ${BUILD_SETTINGS_SQL}; SELECT pg_backend_pid() AS pid, now()::text AS began`,
            );
            opened = began.rows[0]!;
            open.add(opened);
            size = Math.min(size * 2, largest);
            const spec = await cursor.claim(piece, target.userPk, size, target.rowsTable);
            if (!spec) {
              await c.query('ROLLBACK');
              return;
            }
            const bytes = await buildPiece(ctx, piece, target, spec);
            await order.turn(spec.index);
            await piece.query('COMMIT');
            cursor.bytes += bytes;
            order.committed(spec.index);
          } catch (err) {
            stop(err, opened);
            // A ROLLBACK hit by the stop's cancel fails; withConnection then rolls back again.
            await c.query('ROLLBACK').catch(() => {});
            throw err;
          } finally {
            if (opened) open.delete(opened);
          }
          ctx.snapshotBuilds.progressed(id);
        }
      });
    try {
      await Promise.allSettled(Array.from({ length: BUILD_CONNECTIONS }, builder));
      // Every row is written: a close from here on waits for the byte count and the sweep.
      this.#interrupt = null;
      if (!stopped) {
        try {
          if (cursor.claimed !== target.rowCount) throw new Error(`snapshot build wrote ${cursor.claimed} rows of ${target.rowCount}`);
          await ctx.db.query('UPDATE sync.snapshot_sessions SET byte_count = $2 WHERE snapshot_id = $1::uuid', [id, cursor.bytes]);
          await ctx.db.withConnection(async (c) => {
            await c.query('BEGIN');
            try {
              await sweepSnapshots(c);
              await c.query('COMMIT');
            } catch (err) {
              await c.query('ROLLBACK').catch(() => {});
              throw err;
            }
          });
        } catch (err) {
          stop(err);
        }
      }
      await stopped;
    } finally {
      await this.holder.close();
      ctx.snapshotBuilds.progressed(id);
      release();
    }
  }

  /**
   * Stops the build at its first failure `err`, without waiting for the other pieces in progress
   * (`others`): cancels their statements (so they neither keep PostgreSQL busy nor hold the
   * session table's lock), then records the failure and wakes this instance's chunk reads, which
   * answer it at once (other processes' reads see it at their next look). Cancelled first: a
   * DELETE of the session holds the header row while its DROP waits for those pieces, so the
   * record would wait for them too. Never rejects.
   */
  async #stop(err: unknown, others: OpenPiece[]): Promise<void> {
    const { ctx, target } = this;
    if (others.length > 0) {
      try {
        // Only while the piece's transaction runs (same backend, same start): behind a
        // transaction pooler the backend may serve someone else once it ended.
        await ctx.db.query(
          `SELECT pg_cancel_backend(a.pid) FROM pg_stat_activity a
            JOIN unnest($1::int[], $2::timestamptz[]) AS p(pid, began) ON a.pid = p.pid AND a.xact_start = p.began`,
          [others.map((p) => p.pid), others.map((p) => p.began)],
        );
      } catch (cancelErr) {
        // Uncancelled, those pieces still stop before their commit (CommitOrder), just later.
        ctx.onInternalError(cancelErr, 'snapshot build cancel');
      }
    }
    await this.#fail(err);
    ctx.snapshotBuilds.progressed(target.snapshotId);
  }

  async #fail(err: unknown): Promise<void> {
    const { ctx, target } = this;
    // The session was deleted (or swept) while a piece ran: nothing is left to build for.
    if (pgErrorCode(err) === '42P01') return;
    const message = err instanceof SyncServerError ? err.message : BUILD_FAILED_MESSAGE;
    try {
      const r = await ctx.db.query('UPDATE sync.snapshot_sessions SET build_error = $2 WHERE snapshot_id = $1::uuid', [
        target.snapshotId,
        message,
      ]);
      if (r.rowCount === 0) return;
    } catch (recordErr) {
      // Unrecorded, the chunk reads find the build's lock free and fail the same way.
      ctx.onInternalError(recordErr, 'snapshot build failure record');
    }
    if (!(err instanceof SyncServerError)) ctx.onInternalError(err, `snapshot build ${target.snapshotId}`);
  }
}

/** A piece transaction in progress: its backend and its start (`now()`), to cancel it by. */
interface OpenPiece {
  pid: number;
  began: string;
}
