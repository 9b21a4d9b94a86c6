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
 * Any other FK violation still fails the bundle, as a bad server bundle must. When the app's schema
 * refuses the cleared reference (a CHECK, a trigger), the bundle fails with that cause.
 */
import { keyJsonToDisplay } from './codec.ts';
import type { EngineContext } from './context.ts';
import { SyncError } from './errors.ts';
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
    if (ref.onDelete === 'SET NULL' && clearReference(ctx, child, ref.column, rowid, childKeyJson)) return 'settled';
    return !referencedThroughAnAction(ctx, child, childKeyJson);
  });
}

/**
 * Clears `column` of row `rowid` as the server's SET NULL did; false when the column is declared
 * NOT NULL (nothing changed: the row is dropped or left like a child of any other action). Any
 * other refusal (a CHECK, an app trigger raising) is the app's schema rejecting the server's
 * state, as it would reject the row pulled in that state: an `apply_failed` that rolls back the
 * bundle's transaction, never a reason to delete the row instead.
 */
function clearReference(ctx: EngineContext, t: TableModel, column: string, rowid: number, keyJson: string): boolean {
  const name = column.toLowerCase();
  if (t.columns.find((c) => c.name.toLowerCase() === name)?.notNull ?? false) return false;
  try {
    ctx.db.exec({ sql: `UPDATE ${quoteIdent(t.table)} SET ${quoteIdent(column)} = NULL WHERE rowid = ?`, bind: [rowid] });
    return true;
  } catch (e) {
    const key = keyJsonToDisplay(t, keyJson);
    throw new SyncError(
      'apply_failed',
      `local apply rolled back: clearing ${t.table}.${column} of ${key} (its parent is deleted on the server, ON DELETE SET NULL) ` +
        `was refused: ${e instanceof Error ? e.message : String(e)}`,
      undefined,
      { table: t.table, key, column },
    );
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
