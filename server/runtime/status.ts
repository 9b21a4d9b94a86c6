/** `GET /syncx/status` and `/syncx/health`: lifecycle plus aggregate counters from the database. */
import type { CapabilityFeatures, StatusResponse } from '../../protocol/wire.ts';
import type { SqlDatabase } from '../database/types.ts';

/** Process-side facts the status report includes. */
interface LifecycleFacts {
  appName: string;
  lifecycle: 'running' | 'shutting_down' | 'closed';
  inflight: number;
  registeredTables: string[];
  features: CapabilityFeatures;
}

/** Builds the status report; `healthy` iff running and no user's floor is ahead of its latest bundle. */
export async function readStatus(db: SqlDatabase, facts: LifecycleFacts): Promise<StatusResponse> {
  let r: { rows: Record<string, string | null>[] };
  try {
    r = await readAggregates(db);
  } catch (err) {
    // A closed server may have closed its own database: report the lifecycle without aggregates.
    if (facts.lifecycle === 'running') throw err;
    r = { rows: [{}] };
  }
  return toStatus(r.rows[0]!, facts);
}

function readAggregates(db: SqlDatabase) {
  return db.query<Record<string, string | null>>(`
    SELECT
      (SELECT count(*) FROM sync.user_state WHERE retained_bundle_floor > next_bundle_seq - 1)::text AS floor_ahead,
      (SELECT coalesce(max(next_bundle_seq - 1), 0) FROM sync.user_state)::text AS latest_max,
      (SELECT coalesce(min(retained_bundle_floor), 0) FROM sync.user_state)::text AS floor_min,
      (SELECT coalesce(max(retained_bundle_floor), 0) FROM sync.user_state)::text AS floor_max,
      (SELECT coalesce(min(next_bundle_seq - 1 - retained_bundle_floor), 0) FROM sync.user_state)::text AS window_min,
      (SELECT coalesce(max(next_bundle_seq - 1 - retained_bundle_floor), 0) FROM sync.user_state)::text AS window_max,
      (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM sync.history_pruned_error_seq)::text AS pruned,
      (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM sync.accepted_push_replay_seq)::text AS replays,
      (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM sync.rejected_registered_write_seq)::text AS rejected,
      (SELECT count(*) FROM sync.bundle_log)::text AS bundles,
      (SELECT coalesce(sum(byte_count), 0) FROM sync.bundle_log)::text AS bundle_bytes`);
}

function toStatus(row: Record<string, string | null>, facts: LifecycleFacts): StatusResponse {
  const n = (k: string) => Number(row[k] ?? 0);
  const running = facts.lifecycle === 'running';
  return {
    status: running && n('floor_ahead') === 0 ? 'healthy' : 'unhealthy',
    version: 'v1',
    app_name: facts.appName,
    lifecycle: facts.lifecycle,
    accepting_operations: running,
    inflight_operations: facts.inflight,
    registered_tables: facts.registeredTables,
    features: facts.features,
    user_state_retention_floor_ahead_count: n('floor_ahead'),
    latest_bundle_seq_max: n('latest_max'),
    retained_bundle_floor_min: n('floor_min'),
    retained_bundle_floor_max: n('floor_max'),
    retained_bundle_window_min: n('window_min'),
    retained_bundle_window_max: n('window_max'),
    history_pruned_error_count: n('pruned'),
    accepted_push_replay_count: n('replays'),
    rejected_registered_write_count: n('rejected'),
    committed_bundle_count: n('bundles'),
    committed_bundle_bytes: n('bundle_bytes'),
  };
}
