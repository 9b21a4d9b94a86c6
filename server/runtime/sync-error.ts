/**
 * The one error type the runtime throws for protocol-level failures. The HTTP layer turns it into
 * the wire envelope `{"error": code, "message": ...}` plus `extra` fields (conflict, source ids).
 */
import { statusForWireError } from '../../protocol/errors.ts';
import type { WireErrorCode } from '../../protocol/errors.ts';

/** A protocol error: `code` is a wire error code, `status` its HTTP status. */
export class SyncServerError extends Error {
  readonly status: number;
  constructor(
    readonly code: WireErrorCode,
    message: string,
    /** Additional top-level envelope fields (`conflict`, `source_id`, `replaced_by_source_id`). */
    readonly extra: Record<string, unknown> = {},
    /** Extra response headers (e.g. `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'SyncServerError';
    this.status = statusForWireError(code);
  }
}

/**
 * A refusal the client should retry after `retryAfterSeconds` (a capacity limit, a transient
 * database fault): the wait travels in `Retry-After`, which clients of both dialects honour.
 */
export function retryLaterError(code: WireErrorCode, message: string, retryAfterSeconds: number): SyncServerError {
  return new SyncServerError(code, message, {}, { 'Retry-After': String(retryAfterSeconds) });
}

/** True for PostgreSQL errors worth retrying the whole transaction (serialization, deadlock, lock). */
export function isRetryablePgError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === '40001' || code === '40P01' || code === '55P03';
}

/** The SQLSTATE of a PostgreSQL error, if any. */
export function pgErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
