/**
 * The synced tables' foreign keys as the engine follows them: single-column references to a
 * synced table's sync key, the only kind the server registers (see docs/engine.md). What a local
 * delete does through them (CASCADE removes the referencing row, SET NULL / SET DEFAULT rewrite
 * it), the rows such a delete reaches, and the parent row a row violating one of them names. The
 * local schema mirrors the server's, so a local delete's actions are also the server's.
 */
import { keyJsonExpr, keyJsonOfKeyValueExpr, keyValueOfKeyJson } from './capture.ts';
import type { EngineContext } from './context.ts';
import type { TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';

/** A column of a child table referencing `parent`'s sync key. */
interface SyncKeyReference {
  /** The foreign key's id, as `PRAGMA foreign_key_list` and `foreign_key_check` name it. */
  id: number;
  column: string;
  parent: TableModel;
  /** The ON DELETE action, upper case (CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION). */
  onDelete: string;
}

const referencesCache = new WeakMap<TableModel, SyncKeyReference[]>();

/** Every foreign key of `t` as `PRAGMA foreign_key_list` lists it: one row per column. */
export function foreignKeyList(ctx: EngineContext, t: TableModel): Record<string, unknown>[] {
  return ctx.db.exec({ sql: `PRAGMA foreign_key_list(${quoteIdent(t.table)})`, rowMode: 'object', returnValue: 'resultRows' }) as Record<
    string,
    unknown
  >[];
}

/** The rows of `t` violating a foreign key, as `PRAGMA foreign_key_check` lists them: [table, rowid, parent, fkid]. */
export function foreignKeyViolations(ctx: EngineContext, t: TableModel): unknown[][] {
  return ctx.db.exec({
    sql: `PRAGMA foreign_key_check(${quoteIdent(t.table)})`,
    rowMode: 'array',
    returnValue: 'resultRows',
  }) as unknown[][];
}

/** The references of `t` to synced tables' sync keys (cached per table). */
function syncKeyReferences(ctx: EngineContext, t: TableModel): SyncKeyReference[] {
  let refs = referencesCache.get(t);
  if (refs) return refs;
  const list = foreignKeyList(ctx, t);
  const byId = new Map<number, Record<string, unknown>[]>();
  for (const r of list) byId.set(Number(r.id), [...(byId.get(Number(r.id)) ?? []), r]);
  refs = [];
  for (const [id, cols] of byId) {
    if (cols.length !== 1) continue;
    const parent = ctx.model.byName.get(String(cols[0]!.table));
    if (!parent || (cols[0]!.to !== null && cols[0]!.to !== undefined && String(cols[0]!.to) !== parent.key.name)) continue;
    refs.push({ id, column: String(cols[0]!.from), parent, onDelete: String(cols[0]!.on_delete).toUpperCase() });
  }
  referencesCache.set(t, refs);
  return refs;
}

export type DeleteAction = 'CASCADE' | 'SET NULL' | 'SET DEFAULT';

/** A reference whose ON DELETE action writes the child. */
export interface ActionRef {
  column: string;
  parent: TableModel;
  action: DeleteAction;
}

const actionRefsCache = new WeakMap<TableModel, ActionRef[]>();

/** The references of `t` to synced tables whose ON DELETE action writes `t` (cached per table). */
export function actionRefs(ctx: EngineContext, t: TableModel): ActionRef[] {
  let refs = actionRefsCache.get(t);
  if (!refs) {
    refs = [];
    for (const r of syncKeyReferences(ctx, t)) {
      if (r.onDelete === 'CASCADE' || r.onDelete === 'SET NULL' || r.onDelete === 'SET DEFAULT')
        refs.push({ column: r.column, parent: r.parent, action: r.onDelete });
    }
    actionRefsCache.set(t, refs);
  }
  return refs;
}

/** The parent row a row violating a reference names, with that reference. */
export interface ViolatedReference {
  parent: TableModel;
  column: string;
  onDelete: string;
  parentKeyJson: string;
  childKeyJson: string;
}

/**
 * What row `rowid` of `child`, reported by `PRAGMA foreign_key_check` as violating foreign key
 * `fkid`, references; null when that key is not a reference to a synced table's sync key (no
 * parent row to name) or the row is gone.
 */
export function violatedReference(ctx: EngineContext, child: TableModel, rowid: number, fkid: number): ViolatedReference | null {
  const ref = syncKeyReferences(ctx, child).find((r) => r.id === fkid);
  if (!ref) return null;
  const [parentKeyJson, childKeyJson] =
    (
      ctx.db.exec({
        sql:
          `SELECT ${keyJsonOfKeyValueExpr(ref.parent, `src.${quoteIdent(ref.column)}`)}, ${keyJsonExpr('src', child)} ` +
          `FROM ${quoteIdent(child.table)} AS src WHERE rowid = ?`,
        bind: [rowid],
        rowMode: 'array',
        returnValue: 'resultRows',
      }) as unknown[][]
    )[0] ?? [];
  if (typeof parentKeyJson !== 'string' || typeof childKeyJson !== 'string') return null;
  return { parent: ref.parent, column: ref.column, onDelete: ref.onDelete, parentKeyJson, childKeyJson };
}

/** A row a delete reaches, and through which reference. */
export interface ReachedRow {
  table: TableModel;
  ref: ActionRef;
  keyJson: string;
  /** Its `_sync_row_state` version (null when it has none); read only when the walk asks for versions. */
  rowVersion: number | null;
}

export interface WalkOptions {
  /** How many levels below the deleted rows to look (a CASCADE chain deeper than this is not followed). */
  levels: number;
  /** The actions to walk through (rows reached through another one are not visited). */
  actions: readonly DeleteAction[];
  /** Join each reached row's `_sync_row_state` version. */
  versions: boolean;
}

/**
 * Walks, level by level, the rows that deleting `deleted` (key JSONs per table) reaches through
 * the local ON DELETE actions, calling `visit` for each (a row reached through two references,
 * twice). A CASCADE child is deleted too, so the rows referencing it are reached next (each row
 * is followed once); a SET NULL / SET DEFAULT child is only rewritten, so the walk stops there.
 * Returns true as soon as `visit` does (the walk stops then), else false.
 */
export function walkRowsReachedByDelete(
  ctx: EngineContext,
  deleted: ReadonlyMap<TableModel, readonly string[]>,
  opts: WalkOptions,
  visit: (row: ReachedRow) => boolean | void,
): boolean {
  const followed = new Set<string>();
  let level: ReadonlyMap<TableModel, readonly string[]> = deleted;
  for (let depth = 0; depth < opts.levels && level.size > 0; depth++) {
    const next = new Map<TableModel, string[]>();
    for (const [parent, keys] of level) {
      for (const c of ctx.model.tables) {
        for (const ref of actionRefs(ctx, c)) {
          if (ref.parent !== parent || !opts.actions.includes(ref.action)) continue;
          const rows = ctx.db.exec({
            sql: `SELECT ${keyJsonExpr('src', c)}${opts.versions ? ', rs.row_version' : ''} FROM ${quoteIdent(c.table)} AS src${
              opts.versions
                ? ` LEFT JOIN _sync_row_state rs ON rs.schema_name = ? AND rs.table_name = ? AND rs.key_json = ${keyJsonExpr('src', c)}`
                : ''
            } WHERE src.${quoteIdent(ref.column)} IN (SELECT ${keyValueOfKeyJson(parent, 'k')} FROM (SELECT value AS key_json FROM json_each(?)) AS k)`,
            bind: opts.versions ? [ctx.schema, c.table, JSON.stringify(keys)] : [JSON.stringify(keys)],
            rowMode: 'array',
            returnValue: 'resultRows',
          }) as unknown[][];
          for (const [keyJson, version] of rows) {
            const row: ReachedRow = {
              table: c,
              ref,
              keyJson: String(keyJson),
              rowVersion: version === null || version === undefined ? null : Number(version),
            };
            if (visit(row) === true) return true;
            if (ref.action !== 'CASCADE' || followed.has(`${c.table}\u0000${row.keyJson}`)) continue;
            followed.add(`${c.table}\u0000${row.keyJson}`);
            let list = next.get(c);
            if (!list) next.set(c, (list = []));
            list.push(row.keyJson);
          }
        }
      }
    }
    level = next;
  }
  return false;
}
