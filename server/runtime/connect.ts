/**
 * `POST /sync/connect`: the first-connect handshake deciding who seeds a user's scope.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectResponse } from '../../protocol/wire.ts';
import type { SqlDatabase } from '../database/types.ts';
import { ScopeCode, ensureUserScope, markInitialized } from './scope-state.ts';
import { inUserTransaction } from './transactions.ts';

/** Runs the connect state machine for (user, source). */
export function connectScope(
  db: SqlDatabase,
  userId: string,
  sourceId: string,
  hasLocalPendingRows: boolean,
  leaseTtlSeconds: number,
): Promise<ConnectResponse> {
  return inUserTransaction(db, userId, async (tx) => {
    const scope = await ensureUserScope(tx, userId);
    if (scope.state === ScopeCode.initialized) return { resolution: 'remote_authoritative' };
    if (scope.state === ScopeCode.initializing && scope.initializerSourceId !== sourceId) {
      const leftMs = (scope.leaseExpiresAt?.getTime() ?? Date.now()) - Date.now();
      return {
        resolution: 'retry_later',
        retry_after_seconds: Math.max(1, Math.ceil(leftMs / 1000)),
        lease_expires_at: scope.leaseExpiresAt!.toISOString(),
      };
    }
    if (!hasLocalPendingRows) {
      await markInitialized(tx, scope.userPk, sourceId);
      return { resolution: 'initialize_empty' };
    }
    // Uninitialized, or initializing by this very source: (re)issue the lease, same id on refresh.
    const initializationId = scope.state === ScopeCode.initializing ? scope.initializationId! : randomUUID();
    const r = await tx.query<{ lease_expires_at: Date }>(
      `UPDATE sync.scope_state SET state_code = 1, initializer_source_id = $2, initialization_id = $3::uuid,
              lease_expires_at = now() + make_interval(secs => $4)
        WHERE user_pk = $1 RETURNING lease_expires_at`,
      [scope.userPk, sourceId, initializationId, leaseTtlSeconds],
    );
    return {
      resolution: 'initialize_local',
      initialization_id: initializationId,
      lease_expires_at: r.rows[0]!.lease_expires_at.toISOString(),
    };
  });
}
