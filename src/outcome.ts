/**
 * Turns an {@link Outcome} that crossed a worker or tab boundary back into a value or a thrown
 * {@link OversqliteError}.
 */
import { OversqliteError } from '../worker/database/errors.ts';
import type { Outcome } from '../worker/database/types.ts';

/** Returns the value of a successful outcome, or throws its typed error. */
export function unwrapOutcome<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw OversqliteError.fromShape(outcome.error);
}

/** A failed outcome with the given code and message. */
export function failedOutcome<T>(code: OversqliteError['code'], message: string): Outcome<T> {
  return { ok: false, error: new OversqliteError(code, message).toShape() };
}
