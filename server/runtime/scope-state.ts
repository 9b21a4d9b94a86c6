/**
 * Per-user state: the compact user key, the gapless bundle sequence, the retained floor, and the
 * scope lifecycle (UNINITIALIZED → INITIALIZING with a lease → INITIALIZED).
 */
import type { SqlSession } from '../database/types.ts';
import { SyncServerError } from './sync-error.ts';

/** Scope lifecycle codes as stored. */
export const ScopeCode = { uninitialized: 0, initializing: 1, initialized: 2 } as const;

/** A user's state as read inside a transaction. */
export interface UserScope {
  userPk: string;
  /** Highest committed bundle_seq (0 when none). */
  latestBundleSeq: number;
  retainedFloor: number;
  state: 0 | 1 | 2;
  initializerSourceId: string | null;
  initializationId: string | null;
  leaseExpiresAt: Date | null;
}

/** A row read with {@link SCOPE_COLUMNS} (aliases `u` user_state, `s` scope_state). */
export interface ScopeRow {
  user_pk: string;
  next_bundle_seq: string;
  retained_bundle_floor: string;
  state_code: number | null;
  initializer_source_id: string | null;
  initialization_id: string | null;
  lease_expires_at: Date | null;
  lease_expired: boolean | null;
}

function toScope(r: ScopeRow): UserScope {
  return {
    userPk: r.user_pk,
    latestBundleSeq: Number(r.next_bundle_seq) - 1,
    retainedFloor: Number(r.retained_bundle_floor),
    state: (r.state_code ?? 0) as 0 | 1 | 2,
    initializerSourceId: r.initializer_source_id,
    initializationId: r.initialization_id,
    leaseExpiresAt: r.lease_expires_at,
  };
}

/** The scope's columns: `u` is `sync.user_state`, `s` the left-joined `sync.scope_state`. */
export const SCOPE_COLUMNS = `u.user_pk::text AS user_pk, u.next_bundle_seq::text AS next_bundle_seq,
         u.retained_bundle_floor::text AS retained_bundle_floor, s.state_code,
         s.initializer_source_id, s.initialization_id::text AS initialization_id, s.lease_expires_at,
         s.lease_expires_at <= now() AS lease_expired`;

const SELECT_SCOPE = `
  SELECT ${SCOPE_COLUMNS}
    FROM sync.user_state u LEFT JOIN sync.scope_state s ON s.user_pk = u.user_pk
   WHERE u.user_id = $1`;

/**
 * Creates the user's rows if absent and resets an expired initialization lease; must run inside
 * a user transaction (the advisory lock makes it race-free).
 */
export async function ensureUserScope(tx: SqlSession, userId: string): Promise<UserScope> {
  // Usual case: one round trip (the user exists and no lease expired).
  let r = await tx.query<ScopeRow>(SELECT_SCOPE, [userId]);
  if (r.rows.length === 0 || r.rows[0]!.state_code === null) {
    await tx.query('INSERT INTO sync.user_state (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING', [userId]);
    await tx.query(
      `INSERT INTO sync.scope_state (user_pk) SELECT user_pk FROM sync.user_state WHERE user_id = $1 ON CONFLICT (user_pk) DO NOTHING`,
      [userId],
    );
    r = await tx.query<ScopeRow>(SELECT_SCOPE, [userId]);
  }
  const row = r.rows[0]!;
  if (row.state_code === ScopeCode.initializing && row.lease_expired) {
    await tx.query(
      `UPDATE sync.scope_state SET state_code = 0, initializer_source_id = NULL, initialization_id = NULL, lease_expires_at = NULL
        WHERE user_pk = $1 AND state_code = 1`,
      [row.user_pk],
    );
    return { ...toScope(row), state: ScopeCode.uninitialized, initializerSourceId: null, initializationId: null, leaseExpiresAt: null };
  }
  return toScope(row);
}

/** Reads the user's state without creating anything (read paths); null when the user is unknown. */
export async function readUserScope(tx: SqlSession, userId: string): Promise<UserScope | null> {
  const r = await tx.query<ScopeRow>(SELECT_SCOPE, [userId]);
  return r.rows.length === 0 ? null : readPathScope(r.rows[0]!);
}

/**
 * The scope as push-session create and commit see it, from a row read with {@link SCOPE_COLUMNS}
 * in the user's transaction, along with what else they read in the same statement: null when the
 * user or its scope row does not exist; an expired lease reads as uninitialized. Both paths refuse
 * an uninitialized scope, and the refusal rolls back whatever {@link ensureUserScope} would have
 * written (the rows, the lease reset), so they need not write it.
 */
export function scopeForPush(row: ScopeRow | undefined): UserScope | null {
  if (!row || row.state_code === null) return null;
  const scope = toScope(row);
  if (row.state_code === ScopeCode.initializing && row.lease_expired) {
    return { ...scope, state: ScopeCode.uninitialized, initializerSourceId: null, initializationId: null, leaseExpiresAt: null };
  }
  return scope;
}

/** The scope as read paths see it, from a row read with {@link SCOPE_COLUMNS}: an expired lease reads as uninitialized. */
export function readPathScope(row: ScopeRow): UserScope {
  const scope = toScope(row);
  // An expired lease reads as uninitialized; the next write path resets it for real.
  if (scope.state === ScopeCode.initializing && scope.leaseExpiresAt && scope.leaseExpiresAt.getTime() <= Date.now()) {
    return { ...scope, state: ScopeCode.uninitialized, initializerSourceId: null, initializationId: null, leaseExpiresAt: null };
  }
  return scope;
}

/** Throws `409 scope_uninitialized` / `scope_initializing` unless the scope is initialized. */
export function requireInitialized(scope: UserScope | null): asserts scope is UserScope {
  if (!scope || scope.state === ScopeCode.uninitialized) {
    throw new SyncServerError('scope_uninitialized', 'scope is not initialized; call POST /sync/connect first');
  }
  if (scope.state === ScopeCode.initializing) {
    throw new SyncServerError('scope_initializing', 'scope initialization is in progress on another source');
  }
}

/** Marks the scope initialized by `sourceId`. */
export async function markInitialized(tx: SqlSession, userPk: string, sourceId: string): Promise<void> {
  await tx.query(
    `UPDATE sync.scope_state SET state_code = 2, initializer_source_id = NULL, initialization_id = NULL,
            lease_expires_at = NULL, initialized_at = now(), initialized_by_source_id = $2
      WHERE user_pk = $1`,
    [userPk, sourceId],
  );
}

/** Counts a `history_pruned` answer (status counter); outside any read-only transaction. */
export const COUNT_HISTORY_PRUNED = `SELECT nextval('sync.history_pruned_error_seq')`;
