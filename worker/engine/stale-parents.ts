/**
 * Pulled children of parents the device already knows are deleted at a later version.
 *
 * A device can hold a row's newer state before it has pulled the bundles in between (a push
 * conflict hands it the server's row). Pulling an older bundle then skips that row as stale but
 * applies rows that depend on it: a child inserted under a parent the device knows was deleted
 * later fails the bundle's FK check at COMMIT, on every pull, and the device never moves on.
 * The server's delete of the parent settled such a child by the foreign key's ON DELETE action
 * (or the child had moved away before), and a later bundle of the same pull carries that, so the
 * child is settled here ahead of it, inside the bundle's transaction:
 * - SET NULL: the server kept the child and cleared its reference: cleared here too.
 * - otherwise the child is dropped, unless rows reference it through an ON DELETE action: its
 *   local delete would run that action over them (capture off), which is the server's only if
 *   the child was still under the parent when it went. Had it moved away first, the server keeps
 *   them and no later bundle brings them back (chaos seed 814000251: a team dropped for its
 *   captain's later delete took its people). Such a child is left alone: the bundle fails its FK
 *   check and is applied with the rest of the pull, up to the ceiling where the server's state is
 *   consistent (`pull.ts applyPulledBundles`).
 * Any other FK violation still fails the bundle, as a bad server bundle must.
 */
import type { EngineContext } from './context.ts';
import { dropForeignKeyViolations, readRowState } from './apply.ts';
import { violatedReference, walkRowsReachedByDelete } from './foreign-keys.ts';
import type { TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';

/**
 * Settles local rows that violate an FK to a parent whose tombstone is newer than the child's own
 * version (the child's row_state, or bundle `seq` when it has none), as described above.
 */
export function dropChildrenOfLaterDeletedParents(ctx: EngineContext, seq: number): void {
  dropForeignKeyViolations(ctx, ({ child, rowid, childKeyJson, fkid }) => {
    // Only single-column references to the parent's sync key can be matched to its row_state.
    const ref = violatedReference(ctx, child, rowid, fkid);
    if (!ref) return false;
    const state = readRowState(ctx, ref.parent, ref.parentKeyJson);
    if (!state || !state.deleted) return false;
    if (state.version <= (readRowState(ctx, child, childKeyJson)?.version ?? seq)) return false;
    if (ref.onDelete === 'SET NULL' && clearReference(ctx, child, ref.column, rowid)) return 'settled';
    return !referencedThroughAnAction(ctx, child, childKeyJson);
  });
}

/** Clears `column` of row `rowid` (false when the column is NOT NULL: nothing changed). */
function clearReference(ctx: EngineContext, t: TableModel, column: string, rowid: number): boolean {
  try {
    ctx.db.exec({ sql: `UPDATE ${quoteIdent(t.table)} SET ${quoteIdent(column)} = NULL WHERE rowid = ?`, bind: [rowid] });
    return true;
  } catch {
    return false;
  }
}

/** True when deleting the row would run an ON DELETE action (CASCADE, SET NULL, SET DEFAULT) over another row. */
function referencedThroughAnAction(ctx: EngineContext, t: TableModel, keyJson: string): boolean {
  return walkRowsReachedByDelete(
    ctx,
    new Map([[t, [keyJson]]]),
    { levels: 1, actions: ['CASCADE', 'SET NULL', 'SET DEFAULT'], versions: false },
    () => true,
  );
}
