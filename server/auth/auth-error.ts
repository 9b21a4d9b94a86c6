/**
 * Why a request could not be authenticated. Adapters turn an `AuthError` into the protocol's
 * `401 {"error":"authentication_failed","message":…}` (or `503 service_unavailable` when the key
 * set itself could not be loaded, which is the server's problem, not the token's).
 */

/** Machine-readable reason for an {@link AuthError}. */
export type AuthErrorCode =
  /** No `Authorization` header. */
  | 'token_missing'
  /** The header is not `Bearer <jwt>`, or the token is not a well-formed JWT. */
  | 'token_malformed'
  /** `exp` is in the past (beyond the clock tolerance). */
  | 'token_expired'
  /** The signature does not verify with the configured key(s), or the algorithm is not allowed (e.g. `none`). */
  | 'token_invalid_signature'
  /** `sub` is missing or blank, or `iss` / `aud` / `nbf` / `iat` do not validate. */
  | 'token_claims_invalid'
  /** The JWKS could not be fetched or parsed; the token could not be checked at all. */
  | 'key_set_unavailable';

/** A failed authentication, with a code and a message that says what to fix. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The HTTP status an adapter answers with: 503 when the key set is unavailable, else 401. */
  get httpStatus(): 401 | 503 {
    return this.code === 'key_set_unavailable' ? 503 : 401;
  }

  /** The protocol error envelope for this failure. */
  toWireError(): { error: 'authentication_failed' | 'service_unavailable'; message: string } {
    return { error: this.httpStatus === 503 ? 'service_unavailable' : 'authentication_failed', message: this.message };
  }
}

/** True for an {@link AuthError}, also across duplicated module instances. */
export function isAuthError(err: unknown): err is AuthError {
  return (
    err instanceof AuthError || (err instanceof Error && err.name === 'AuthError' && typeof (err as { code?: unknown }).code === 'string')
  );
}
