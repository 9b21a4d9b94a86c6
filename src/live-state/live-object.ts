/**
 * `live(database, query, onRows)`: a live query from a Kysely or Drizzle query object, without a UI
 * framework. Rows arrive mapped and typed as the query builder would return them.
 */
import type { Database } from '../database.ts';
import type { LiveQuery } from '../live-query.ts';
import { OversqliteError } from '../../worker/database/errors.ts';
import { resolveLiveSource } from './query-source.ts';
import type { LiveQueryObject, RowOf } from './query-source.ts';

/**
 * Runs `query` now and again whenever a commit in any tab (or a sync) touches a table it reads,
 * calling `onRows` with the builder's rows. Query failures go to `onError`, or to the database's
 * `error` event; without `onError`, a row-mapping failure goes to the global `reportError`.
 */
export function live<Q extends LiveQueryObject>(
  database: Database,
  query: Q,
  onRows: (rows: RowOf<Q>[]) => void,
  onError?: (error: OversqliteError) => void,
): LiveQuery {
  const source = resolveLiveSource<RowOf<Q>>(query);
  return database.live(
    source.sql,
    source.params,
    (rows) => {
      let mapped: RowOf<Q>[];
      try {
        mapped = source.mapRows(rows);
      } catch (e) {
        const error = e instanceof OversqliteError ? e : new OversqliteError('internal', String(e));
        if (onError) onError(error);
        else globalThis.reportError?.(error);
        return;
      }
      onRows(mapped);
    },
    onError,
  );
}
