/**
 * Deadlines for the app's callbacks (`getToken`, a conflict resolver). They run in the app's tab
 * and may never settle (a sign-in dialog nobody answers, a token request with no timeout), while
 * the sync operation waiting for them holds the writer lock: without a deadline the device would
 * never sync again, and the app's interactive transactions would wait forever. Past the deadline
 * the operation fails with the caller's error and a late answer is ignored.
 */
import { SyncError } from './errors.ts';
import type { EngineClock } from './types.ts';

/** Default deadline of one `getToken()` call. */
export const GET_TOKEN_TIMEOUT_MS = 30_000;
/** Default deadline of one conflict resolver call (it may ask the user). */
export const CONFLICT_RESOLVER_TIMEOUT_MS = 60_000;
/** setTimeout's largest delay (about 24.8 days); a longer one would fire at once. */
export const MAX_CALLBACK_TIMEOUT_MS = 2_147_483_647;

/** `work`, or `late()` as the rejection when it has not settled within `ms`. */
export function settleWithin<T>(clock: EngineClock, ms: number, work: Promise<T>, late: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(late()), ms);
    work.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Whether `value` is unset or a whole number of ms setTimeout can wait (openDatabase checks it too). */
export function isCallbackTimeout(value: number | undefined): boolean {
  return value === undefined || (Number.isInteger(value) && value >= 1 && value <= MAX_CALLBACK_TIMEOUT_MS);
}

/** Throws `config_invalid` unless {@link isCallbackTimeout} accepts `value` (named `name`). */
export function checkCallbackTimeout(name: string, value: number | undefined): void {
  if (!isCallbackTimeout(value)) {
    throw new SyncError('config_invalid', `${name} must be an integer from 1 to ${MAX_CALLBACK_TIMEOUT_MS} (ms)`);
  }
}
