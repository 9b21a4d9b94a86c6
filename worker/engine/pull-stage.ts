/**
 * Pulled rows staged into SQLite while their page still arrives. Taking the staged JSON text
 * apart (`jsonb`, `->>` and the decode casts per column) is most of a set-based upsert's CPU
 * (Node, 10,000 `typed_rows`: 34 ms of which ~26 ms), and none of it depends on what the device
 * knows. So each batch the page reader decodes is written, decoded, into a TEMP table of its
 * table (`_sync_pull_<table>`: the connection's own, in memory, outside every transaction of the
 * app, never touching the database file), and the apply inserts a run of rows from there by
 * their ordinals: a plain copy of typed values (~8 ms for the same rows).
 *
 * Staging decides nothing: a row is applied or skipped exactly as before, only where its values
 * come from changes; a run whose rows are not all staged in one block takes them from their
 * staged text, as before. A page not taken by the text decoder, a failed apply or a crash leaves
 * only unreferenced rows here, cleared at the end of each pull (the TEMP tables go with the
 * connection).
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import type { EngineContext } from './context.ts';
import type { DecodedRow } from './pull.ts';
import { stagedDecodeExpr } from './snapshot-stage.ts';
import { runCached } from './statements.ts';
import type { TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';

/** A pulled row the stage may hold: `ord` is set once its decoded values are in the stage. */
export interface StageableRow extends DecodedRow {
  ord: number | undefined;
}

/** Ordinals of staged rows: unique per process, so a run's rows are one block only if nothing else came between them. */
let nextOrd = 1;

interface StageSql {
  name: string;
  create: string;
  insert: string;
  copy: string;
}

const stageSql = new WeakMap<TableModel, StageSql>();

function sqlOf(t: TableModel): StageSql {
  let x = stageSql.get(t);
  if (x === undefined) {
    const name = `temp.${quoteIdent(`_sync_pull_${t.table}`)}`;
    // Untyped columns (no affinity): each keeps exactly the value its decode expression gave.
    const cols = t.columns.map((_, i) => `c${i}`);
    const exprs = t.columns.map((c, i) => stagedDecodeExpr(c, `j.value ->> ${i}`));
    const updates = t.columns.filter((c) => c !== t.key).map((c) => `${quoteIdent(c.name)} = excluded.${quoteIdent(c.name)}`);
    x = {
      name,
      // WITHOUT ROWID: SQLite calls no update hook for such a table, so the worker's table monitor
      // (`table-access.ts`) is not called into JavaScript for every staged row.
      create: `CREATE TEMP TABLE IF NOT EXISTS ${quoteIdent(`_sync_pull_${t.table}`)} (ord INTEGER PRIMARY KEY, ${cols.join(', ')}) WITHOUT ROWID`,
      insert: `INSERT INTO ${name} (ord, ${cols.join(', ')}) SELECT ?2 + j.key, ${exprs.join(', ')} FROM jsonb_each(jsonb(?1)) AS j`,
      // The same upsert as `upsertSet` in pull.ts, from the stage (ordinals ?1..?2, in order).
      copy:
        `INSERT INTO ${quoteIdent(t.table)} (${t.columns.map((c) => quoteIdent(c.name)).join(', ')}) ` +
        `SELECT ${cols.join(', ')} FROM ${name} WHERE ord BETWEEN ?1 AND ?2 ORDER BY ord ` +
        `ON CONFLICT(${quoteIdent(t.key.name)}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
    };
    stageSql.set(t, x);
  }
  return x;
}

/** The stage tables created on each connection (TEMP: per connection). */
const created = new WeakMap<Database, Set<TableModel>>();

/**
 * Stages `rows` (decoded, in page order; DELETEs are passed over), one statement per stretch of
 * rows of one table. A statement that fails leaves its rows unstaged: the apply then reads their
 * staged text, as without a stage.
 */
export function stagePulledRows(ctx: EngineContext, rows: readonly StageableRow[]): void {
  let tables = created.get(ctx.db);
  if (tables === undefined) created.set(ctx.db, (tables = new Set()));
  for (let i = 0, j = 0; i < rows.length; i = j) {
    const t = rows[i]!.t;
    if (rows[i]!.stagedText === null) {
      j = i + 1;
      continue;
    }
    j = i + 1;
    while (j < rows.length && rows[j]!.t === t && rows[j]!.stagedText !== null) j++;
    const block = rows.slice(i, j);
    const first = nextOrd;
    nextOrd += block.length;
    try {
      const sql = sqlOf(t);
      if (!tables.has(t)) {
        ctx.db.exec(sql.create);
        tables.add(t);
      }
      runCached(ctx.db, sql.insert, [`[${block.map((r) => r.stagedText).join(',')}]`, first]);
    } catch {
      continue;
    }
    for (let k = 0; k < block.length; k++) block[k]!.ord = first + k;
  }
}

/**
 * Upserts a run of rows of `t` (in bundle order) from the stage, when the stage holds exactly
 * them as one block; false when it does not (the caller writes the run from its staged text).
 */
export function upsertStagedRun(ctx: EngineContext, t: TableModel, run: readonly DecodedRow[]): boolean {
  const first = (run[0] as Partial<StageableRow>).ord;
  if (first === undefined || t.columns.length === 1) return false;
  for (let k = 1; k < run.length; k++) if ((run[k] as Partial<StageableRow>).ord !== first + k) return false;
  runCached(ctx.db, sqlOf(t).copy, [first, first + run.length - 1]);
  // Every row is inserted or updated (DO UPDATE): fewer means the stage lost some (an app
  // statement on the TEMP table). The caller then writes the run from its text: the same values
  // again, in the same order, over what came from here.
  return ctx.db.changes() === run.length;
}

/**
 * Drops the staged rows of `bundles` (applied) and of everything staged before them, keeping the
 * rows of a page requested ahead (staged after them): between pages of a long pull, the stage
 * holds about one page.
 */
export function releaseStagedRows(ctx: EngineContext, bundles: readonly { rows: readonly DecodedRow[] }[]): void {
  let last = 0;
  for (const b of bundles) for (const r of b.rows) last = Math.max(last, (r as Partial<StageableRow>).ord ?? 0);
  const tables = created.get(ctx.db);
  if (last === 0 || tables === undefined) return;
  for (const t of tables) {
    try {
      runCached(ctx.db, `DELETE FROM ${sqlOf(t).name} WHERE ord <= ?`, [last]);
    } catch {
      tables.delete(t);
    }
  }
}

/** Empties the stage tables of this connection (the end of a pull). */
export function clearPullStage(ctx: EngineContext): void {
  const tables = created.get(ctx.db);
  if (tables === undefined) return;
  for (const t of tables) {
    try {
      runCached(ctx.db, `DELETE FROM ${sqlOf(t).name}`, []);
    } catch {
      // Dropped by the app meanwhile: created again when next needed.
      tables.delete(t);
    }
  }
}
