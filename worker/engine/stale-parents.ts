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
import { violatedReference } from './foreign-keys.ts';

/**
 * Drops local rows that violate an FK to a parent whose tombstone is newer than the child's own
 * version (the child's row_state, or bundle `seq` when it has none).
 */
export function dropChildrenOfLaterDeletedParents(ctx: EngineContext, seq: number): void {
  dropForeignKeyViolations(ctx, ({ child, rowid, childKeyJson, fkid }) => {
    // Only single-column references to the parent's sync key can be matched to its row_state.
    const ref = violatedReference(ctx, child, rowid, fkid);
    if (!ref) return false;
    const state = readRowState(ctx, ref.parent, ref.parentKeyJson);
    if (!state || !state.deleted) return false;
    return state.version > (readRowState(ctx, child, childKeyJson)?.version ?? seq);
  });
}
