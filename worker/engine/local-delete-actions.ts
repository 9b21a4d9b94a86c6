/**
 * What a local delete of synced rows does to the rows that reference them: the foreign keys whose
 * ON DELETE action writes the referencing row (CASCADE removes it, SET NULL / SET DEFAULT rewrite
 * it), and a walk over the rows such a delete reaches. The local schema mirrors the server's, so
 * this is also what the server's delete will do. Only single-column references to a synced
 * table's sync key count: the only kind the server registers (see docs/engine.md).
 */
import { keyJsonExpr, keyValueOfKeyJson } from './capture.ts';
import type { EngineContext } from './context.ts';
import type { TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';

export type DeleteAction = 'CASCADE' | 'SET NULL' | 'SET DEFAULT';

/** A column of a child table referencing `parent`'s sync key, with the ON DELETE action that writes the child. */
export interface ActionRef {
  column: string;
  parent: TableModel;
  action: DeleteAction;
}

const actionRefsCache = new WeakMap<TableModel, ActionRef[]>();

/** The references of `t` to synced tables whose ON DELETE action writes `t` (cached per table). */
export function actionRefs(ctx: EngineContext, t: TableModel): ActionRef[] {
  let refs = actionRefsCache.get(t);
  if (refs) return refs;
  const list = ctx.db.exec({
    sql: `PRAGMA foreign_key_list(${quoteIdent(t.table)})`,
    rowMode: 'object',
    returnValue: 'resultRows',
  }) as Record<string, unknown>[];
  const byId = new Map<number, Record<string, unknown>[]>();
  for (const r of list) byId.set(Number(r.id), [...(byId.get(Number(r.id)) ?? []), r]);
  refs = [];
  for (const cols of byId.values()) {
    const action = String(cols[0]!.on_delete).toUpperCase();
    if (cols.length !== 1 || !(action === 'CASCADE' || action === 'SET NULL' || action === 'SET DEFAULT')) continue;
    const parent = ctx.model.byName.get(String(cols[0]!.table));
    if (!parent || (cols[0]!.to !== null && String(cols[0]!.to) !== parent.key.name)) continue;
    refs.push({ column: String(cols[0]!.from), parent, action });
  }
  actionRefsCache.set(t, refs);
  return refs;
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
