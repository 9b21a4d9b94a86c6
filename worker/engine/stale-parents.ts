/**
 * Pulled children of parents the device already knows are deleted at a later version.
 *
 * A device can hold a row's newer state before it has pulled the bundles in between (a push
 * conflict hands it the server's row). Pulling an older bundle then skips that row as stale but
 * applies rows that depend on it: a child inserted under a parent the device knows was deleted
 * later fails the bundle's FK check at COMMIT, on every pull, and the device never moves on.
 * The server's history proves such a child gone (or moved elsewhere) by the parent's deletion,
 * and a later bundle of the same pull carries that change, so the child is dropped here, inside
 * the bundle's transaction. Any other FK violation still fails the bundle, as a bad server
 * bundle must.
 */
import type { EngineContext } from './context.ts';
import { dropForeignKeyViolations, readRowState } from './apply.ts';
import { quoteIdent } from './table-config.ts';

/**
 * Drops local rows that violate an FK to a parent whose tombstone is newer than the child's own
 * version (the child's row_state, or bundle `seq` when it has none).
 */
export function dropChildrenOfLaterDeletedParents(ctx: EngineContext, seq: number): void {
  dropForeignKeyViolations(ctx, ({ child, rowid, childKeyJson, parentTable, fkid }) => {
    const p = ctx.model.byName.get(parentTable);
    if (!p) return false;
    const fk = (
      ctx.db.exec({ sql: `PRAGMA foreign_key_list(${quoteIdent(child.table)})`, rowMode: 'object', returnValue: 'resultRows' }) as Record<
        string,
        unknown
      >[]
    ).filter((r) => Number(r.id) === fkid);
    // Only single-column references to the parent's sync key can be matched to its row_state.
    if (fk.length !== 1 || (fk[0]!.to !== null && String(fk[0]!.to) !== p.key.name)) return false;
    const value = `src.${quoteIdent(String(fk[0]!.from))}`;
    const parentKeyJson = ctx.db.selectValue(
      `SELECT json_object(?, ${p.key.uuidAsBlob ? `lower(hex(${value}))` : value}) FROM ${quoteIdent(child.table)} AS src WHERE rowid = ?`,
      [p.key.wireName, rowid],
    );
    if (typeof parentKeyJson !== 'string') return false;
    const state = readRowState(ctx, p, parentKeyJson);
    if (!state || !state.deleted) return false;
    return state.version > (readRowState(ctx, child, childKeyJson)?.version ?? seq);
  });
}
