/**
 * Adoption of rows that were in a registered table before the sync runtime first bootstrapped.
 *
 * Such rows have no sync history: no device would ever receive them, snapshots skip them, and a
 * device pushing the same key would fail on the unique index. At start the runtime therefore turns
 * them, per user, into one server-originated baseline bundle from the source
 * `oversync-adoption:<uuid>` (the contracts' "populated-adoption-baseline" case), which also
 * initializes that user's scope, so devices connect as `remote_authoritative` and hydrate them.
 *
 * It is idempotent: only rows without a row version are adopted, so a restart (or a start after a
 * crash half-way through adoption) adopts exactly what is left. After bootstrap the guard trigger
 * refuses writes outside a sync context, so no new unadopted rows can appear.
 */
import { randomUUID } from 'node:crypto';
import type { SqlSession } from '../database/types.ts';
import { SCOPE_COLUMN, keyTextSql } from './catalog.ts';
import { quoteIdent } from '../database/sql-identifiers.ts';
import type { CatalogTable } from './catalog.ts';
import type { RuntimeContext } from './context.ts';
import { writeAsUser } from './server-writes.ts';

/** Prefix of the writer source id of adoption bundles. */
const ADOPTION_SOURCE_PREFIX = 'oversync-adoption:';

/** SQL condition: row `n` of `table` has no row version (it was never part of a bundle). */
function unadoptedSql(table: CatalogTable): string {
  return `NOT EXISTS (SELECT 1 FROM sync.user_state us JOIN sync.row_state rs ON rs.user_pk = us.user_pk
                       WHERE us.user_id = n.${quoteIdent(SCOPE_COLUMN)} AND rs.table_id = ${table.tableId}
                         AND rs.key_text = ${keyTextSql(table, 'n')})`;
}

/** Adopts every user's pre-existing rows; returns how many users got a baseline bundle. */
export async function adoptPreexistingRows(ctx: RuntimeContext): Promise<number> {
  const users = new Set<string>();
  for (const table of ctx.catalog.tables) {
    const found = await ctx.db.query<{ user_id: string }>(
      `SELECT DISTINCT n.${quoteIdent(SCOPE_COLUMN)} AS user_id FROM ${table.sqlName} n WHERE ${unadoptedSql(table)}`,
    );
    for (const { user_id } of found.rows) {
      // Refused before any bundle is written: such rows stop the start with nothing adopted.
      if (user_id.trim() === '') {
        throw new Error(
          `oversync: rows of ${table.qualifiedName} with a blank ${SCOPE_COLUMN} cannot be adopted (they belong to no user); give them an owner or delete them`,
        );
      }
      users.add(user_id);
    }
  }
  for (const userId of [...users].sort()) {
    await writeAsUser(ctx, userId, `${ADOPTION_SOURCE_PREFIX}${randomUUID()}`, (tx) => touchUnadoptedRows(tx, ctx, userId));
  }
  return users.size;
}

/** Rewrites the user's unadopted rows unchanged, so the capture triggers record them in the bundle. */
async function touchUnadoptedRows(tx: SqlSession, ctx: RuntimeContext, userId: string): Promise<void> {
  for (const table of ctx.catalog.tables) {
    const key = quoteIdent(table.keyColumn);
    await tx.query(`UPDATE ${table.sqlName} n SET ${key} = n.${key} WHERE n.${quoteIdent(SCOPE_COLUMN)} = $1 AND ${unadoptedSql(table)}`, [
      userId,
    ]);
  }
}
