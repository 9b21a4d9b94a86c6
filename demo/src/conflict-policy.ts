/**
 * The demo's conflict policy, as a custom resolver: when this device pushed a change to a row
 * that another device changed first, the version edited later (by `updated_at`) wins; a deletion
 * on the server wins over a local edit, and a local deletion loses to a server edit (the edit is
 * newer information). Rows without `updated_at` (comments are immutable) keep the server's version.
 * The engine applies the decision and emits a `conflict` event, which the app shows as a notice.
 */
import type { ConflictContext, ConflictResolution } from '../../src/index.ts';

function editedAt(row: Record<string, unknown> | null): number | null {
  const value = row?.updated_at;
  if (typeof value !== 'string') return null;
  const time = Date.parse(value.includes('T') ? value : value.replace(' ', 'T'));
  return Number.isNaN(time) ? null : time;
}

/** Later edit wins; the server wins ties and everything the timestamps cannot decide. */
export function resolveByLatestEdit(context: ConflictContext): ConflictResolution {
  if (context.serverDeleted || context.serverRow === null || context.localRow === null) return { keep: 'server' };
  const local = editedAt(context.localRow);
  const server = editedAt(context.serverRow);
  if (local !== null && server !== null && local > server) return { keep: 'local' };
  return { keep: 'server' };
}
