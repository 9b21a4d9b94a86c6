/**
 * Per-user bounds on what one user may hold open at once, so one account (a buggy or hostile
 * client) cannot fill the server with staged rows or snapshot tables that only the TTL would
 * reclaim. Checked inside the user's serialized transaction, so counts are exact.
 */
import type { SqlSession } from '../database/types.ts';
import type { ResolvedLimits } from './options.ts';
import { retryLaterError, SyncServerError } from './sync-error.ts';

/**
 * Before a new push session of `plannedRows` rows: at most `maxOpenPushSessionsPerUser` open
 * sessions and `maxStagedRowsPerUser` planned rows across them (0 = unlimited). Past either:
 * `429 push_session_capacity` with `Retry-After`; a session larger than the whole row allowance
 * on its own: `400 push_session_invalid` (waiting cannot help). The caller counts the user's open
 * sessions (not the one this one replaces: same source and source_bundle_id) with
 * {@link OPEN_PUSH_SESSIONS_SQL} when {@link pushSessionsCounted}, else passes null.
 */
export function checkPushSessionQuota(limits: ResolvedLimits, plannedRows: number, open: OpenPushSessions | null): void {
  const { maxOpenPushSessionsPerUser: maxSessions, maxStagedRowsPerUser: maxRows } = limits;
  if (maxSessions <= 0 && maxRows <= 0) return;
  // A bundle larger than the whole allowance can never be staged: final, not "retry later".
  if (maxRows > 0 && plannedRows > maxRows) {
    throw new SyncServerError(
      'push_session_invalid',
      `planned_row_count ${plannedRows} exceeds the ${maxRows} rows one user may stage (limits.maxStagedRowsPerUser)`,
    );
  }
  if (!open) throw new Error('checkPushSessionQuota: the open sessions were not counted');
  const { n, rows } = open;
  if (maxSessions > 0 && n >= maxSessions) {
    throw retryLaterError(
      'push_session_capacity',
      `this user already has ${n} open push sessions (limit ${maxSessions}); commit or delete one, or wait for them to expire`,
      limits.capacityRetryAfterSeconds,
    );
  }
  if (maxRows > 0 && Number(rows) + plannedRows > maxRows) {
    throw retryLaterError(
      'push_session_capacity',
      `planned_row_count ${plannedRows} would bring this user's open push sessions to ${Number(rows) + plannedRows} rows (limit ${maxRows})`,
      limits.capacityRetryAfterSeconds,
    );
  }
}

/** Whether {@link checkPushSessionQuota} needs the user's open sessions counted. */
export function pushSessionsCounted(limits: ResolvedLimits): boolean {
  return limits.maxOpenPushSessionsPerUser > 0 || limits.maxStagedRowsPerUser > 0;
}

/** The user's open push sessions and their planned rows (text: a bigint sum). */
export interface OpenPushSessions {
  n: number;
  rows: string;
}

/**
 * Counts user $1's open push sessions as {@link OpenPushSessions}, less those in `gone` (a
 * data-modifying CTE of the same statement returning `planned_row_count` and `open`, which the
 * statement's snapshot still shows).
 */
export const OPEN_PUSH_SESSIONS_SQL = `SELECT (o.n - g.n)::int AS n, (o.rows - g.rows)::text AS rows
  FROM (SELECT count(*) AS n, coalesce(sum(planned_row_count), 0) AS rows FROM sync.push_sessions WHERE user_pk = $1 AND expires_at > now()) o,
       (SELECT count(*) AS n, coalesce(sum(planned_row_count), 0) AS rows FROM gone WHERE open) g`;

/**
 * Before a new snapshot session: at most `maxSnapshotSessionsPerUser` unexpired sessions (0 =
 * unlimited). Past it: the protocol's `503 snapshot_build_capacity` with `Retry-After`, which
 * clients of both dialects already wait out.
 */
export async function checkSnapshotSessionQuota(tx: SqlSession, limits: ResolvedLimits, userPk: string): Promise<void> {
  const max = limits.maxSnapshotSessionsPerUser;
  if (max <= 0) return;
  const r = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM sync.snapshot_sessions WHERE user_pk = $1 AND expires_at > now()',
    [userPk],
  );
  if (r.rows[0]!.n >= max) {
    throw retryLaterError(
      'snapshot_build_capacity',
      `this user already has ${r.rows[0]!.n} open snapshot sessions (limit ${max}); delete finished ones or wait for them to expire`,
      limits.capacityRetryAfterSeconds,
    );
  }
}
