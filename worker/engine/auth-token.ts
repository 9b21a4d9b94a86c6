/**
 * Bearer token handling. The app's `getToken()` is the only source (it may refresh on its side);
 * the engine keeps the current token in memory only, never in SQLite. Refresh is single-flight
 * (concurrent requests share one `getToken()` call) and happens ahead of expiry when the token is
 * a JWT with an `exp` claim (decoded with jose, not verified: verification is the server's job).
 *
 * What `getToken()` answers means:
 * - a token: use it;
 * - `null` (or an empty string): nobody is signed in → `auth_required` (automatic runs stop until
 *   an explicit call succeeds);
 * - it throws or rejects: no token *right now* (e.g. the identity server is unreachable) →
 *   `token_unavailable`, a transient failure that the scheduler retries with backoff;
 * - it does not settle within its deadline (callback-deadline.ts): the same `token_unavailable`.
 */
import { decodeJwt } from 'jose';
import { GET_TOKEN_TIMEOUT_MS, settleWithin } from './callback-deadline.ts';
import { SyncError } from './errors.ts';
import type { EngineClock } from './types.ts';

/** Refresh this long before `exp`. */
export const REFRESH_AHEAD_MS = 60_000;

/** In-memory token cache with single-flight refresh. */
export class AuthTokenSource {
  #token: string | null = null;
  #expiresAt: number | null = null;
  #inflight: Promise<string> | null = null;

  readonly #getToken: () => Promise<string | null>;
  readonly #clock: EngineClock;
  readonly #onSignedOut: (error: SyncError) => void;
  readonly #timeoutMs: number;

  constructor(
    getToken: () => Promise<string | null>,
    clock: EngineClock,
    /** Called when `getToken()` answered that nobody is signed in (`null`). */
    onSignedOut: (error: SyncError) => void = () => {},
    /** How long one `getToken()` call may take. */
    timeoutMs: number = GET_TOKEN_TIMEOUT_MS,
  ) {
    this.#getToken = getToken;
    this.#clock = clock;
    this.#onSignedOut = onSignedOut;
    this.#timeoutMs = timeoutMs;
  }

  /** A token that is not known to be (nearly) expired; calls `getToken()` when needed. */
  async current(): Promise<string> {
    return this.cached() ?? this.refresh();
  }

  /**
   * The token in memory when it is not known to be (nearly) expired, else null: lets a request
   * go out synchronously, before its caller's next statement (see SyncTransport.sendWithAuth).
   */
  cached(): string | null {
    if (this.#token !== null && (this.#expiresAt === null || this.#clock.now() < this.#expiresAt - REFRESH_AHEAD_MS)) {
      return this.#token;
    }
    return null;
  }

  /** Forces a new `getToken()` call (after a 401). Concurrent callers share one call. */
  refresh(): Promise<string> {
    if (this.#inflight) return this.#inflight;
    const run = (async () => {
      let next: string | null;
      const late = (): SyncError =>
        new SyncError('token_unavailable', `getToken() did not answer within ${this.#timeoutMs} ms; no token right now`);
      try {
        next = await settleWithin(this.#clock, this.#timeoutMs, Promise.resolve().then(this.#getToken), late);
      } catch (e) {
        if (e instanceof SyncError) throw e;
        // Not a verdict on the session: the app could not produce a token right now.
        throw new SyncError('token_unavailable', `getToken() failed: ${e instanceof Error ? e.message : String(e)} ; no token right now`);
      }
      if (!next) {
        const err = new SyncError('auth_required', 'getToken() returned no token; sign in again');
        this.#onSignedOut(err);
        throw err;
      }
      this.#token = next;
      this.#expiresAt = expiryOf(next);
      return next;
    })();
    this.#inflight = run;
    const clear = (): void => {
      if (this.#inflight === run) this.#inflight = null;
    };
    run.then(clear, clear);
    return run;
  }

  /** Drops the cached token (detach / user switch). */
  clear(): void {
    this.#token = null;
    this.#expiresAt = null;
  }
}

/** Epoch ms of a JWT's `exp`, or null for opaque tokens or tokens without `exp`. */
function expiryOf(token: string): number | null {
  try {
    const claims = decodeJwt(token);
    return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** The `sub` claim of a JWT, or null for opaque tokens. */
export function subjectOf(token: string): string | null {
  try {
    const claims = decodeJwt(token);
    return typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : null;
  } catch {
    return null;
  }
}
