/**
 * Bearer-JWT authentication for the sync endpoints, on `jose`. The sync runtime trusts whatever user
 * id the host hands it; this is the host-side helper that turns `Authorization: Bearer <jwt>` into
 * that user id (`sub`).
 */
import { registerHeaderAuthenticate } from './header-auth.ts';
import { MAX_USER_ID_LENGTH, identityProblem } from './identity.ts';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import { AuthError } from './auth-error.ts';

/** Where the verification key(s) come from. */
export type JwtKeySource =
  /** A shared HS256 secret (at least 32 bytes recommended). */
  | { secret: string | Uint8Array }
  /** A JWKS document served over HTTP(S), fetched and cached by `jose`. */
  | { jwksUrl: string | URL }
  /** A JWKS document held in memory. */
  | { jwks: JSONWebKeySet };

/** Claim checks on top of signature and expiry. */
export interface JwtAuthOptions {
  /** Required `iss` value(s). */
  issuer?: string | string[];
  /** Required `aud` value(s). */
  audience?: string | string[];
  /** Seconds of clock skew tolerated for `exp`, `nbf` and `iat` (default 0). */
  clockToleranceSec?: number;
  /**
   * Allowed algorithms. Default: `['HS256']` for a secret; for a JWKS, the asymmetric algorithms
   * `jose` supports (never `none`, never HMAC with a public key).
   */
  algorithms?: string[];
  /**
   * Require an `exp` claim (default true): a token without one would be valid forever. Set false
   * only for an issuer that cannot set it and whose tokens you revoke by rotating the key.
   */
  requireExp?: boolean;
}

/** The authenticated principal. */
export interface AuthenticatedUser {
  /** The token's `sub`: the sync user id (`_sync_scope_id`). */
  userId: string;
}

/** Authenticates fetch-style requests. */
export interface JwtAuth {
  /** Verifies the request's bearer token; throws {@link AuthError} when it cannot. */
  authenticate(request: Request): Promise<AuthenticatedUser>;
  /** Verifies a raw token (no `Bearer ` prefix); throws {@link AuthError}. */
  verifyToken(token: string): Promise<AuthenticatedUser>;
}

const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

type VerificationKey = Uint8Array | JWTVerifyGetKey;

/**
 * Verified tokens kept per authenticator (shared-secret keys only). A device sends the same token
 * with every request until it refreshes it, and verifying it again costs more server CPU than
 * the rest of a small pull (webcrypto key import + HMAC job, ~0.1–0.4 ms). With one fixed secret
 * and fixed claim options the outcome for the same token text can only change when it expires,
 * so a hit re-checks `exp` and nothing else. JWKS keys are not cached: a key removed from the set
 * must stop its tokens at once. Oldest entries are dropped beyond this many.
 */
const VERIFIED_TOKENS_MAX = 4096;

/** `createJwtAuth` was given a key source it cannot use (a configuration mistake, not a bad token). */
export class JwtAuthConfigError extends Error {
  override readonly name = 'JwtAuthConfigError';
  readonly code = 'auth_config_invalid';
}

function keyFor(source: JwtKeySource): { key: VerificationKey; defaultAlgorithms: string[] } {
  if ('secret' in source) {
    const secret = typeof source.secret === 'string' ? new TextEncoder().encode(source.secret) : source.secret;
    if (secret.byteLength === 0) {
      throw new JwtAuthConfigError('createJwtAuth: the HS256 secret is empty; set a non-empty secret (e.g. JWT_SECRET).');
    }
    return { key: secret, defaultAlgorithms: ['HS256'] };
  }
  if ('jwksUrl' in source) {
    let url: URL;
    try {
      url = new URL(source.jwksUrl);
    } catch {
      throw new JwtAuthConfigError(`createJwtAuth: jwksUrl ${JSON.stringify(String(source.jwksUrl))} is not an absolute URL.`);
    }
    return { key: createRemoteJWKSet(url), defaultAlgorithms: ASYMMETRIC_ALGORITHMS };
  }
  if ('jwks' in source && Array.isArray(source.jwks?.keys)) {
    return { key: createLocalJWKSet(source.jwks), defaultAlgorithms: ASYMMETRIC_ALGORITHMS };
  }
  throw new JwtAuthConfigError('createJwtAuth: pass { secret }, { jwksUrl } or { jwks: { keys: [...] } }.');
}

/** Maps a `jose` (or fetch) failure to the reason a client can act on. */
function toAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof joseErrors.JWTExpired) {
    return new AuthError('token_expired', 'The token has expired; sign in again to get a new one.', { cause: err });
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return new AuthError('token_claims_invalid', `The token's "${err.claim}" claim is not valid: ${err.message}.`, { cause: err });
  }
  if (
    err instanceof joseErrors.JWSSignatureVerificationFailed ||
    err instanceof joseErrors.JWKSNoMatchingKey ||
    err instanceof joseErrors.JWKSMultipleMatchingKeys
  ) {
    return new AuthError('token_invalid_signature', 'The token signature does not verify with the server key.', { cause: err });
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
    return new AuthError('token_invalid_signature', `The token's signing algorithm is not accepted: ${err.message}.`, { cause: err });
  }
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWKInvalid) {
    return new AuthError('token_malformed', `The token is not a valid signed JWT: ${err.message}.`, { cause: err });
  }
  // JWKSTimeout, JWKSInvalid, network errors while fetching the key set: not the client's fault.
  const detail = err instanceof Error ? err.message : String(err);
  return new AuthError('key_set_unavailable', `The verification key set could not be loaded: ${detail}.`, { cause: err });
}

/** Extracts the token from exactly `Bearer <token>` (scheme case-insensitive, as RFC 6750 allows). */
export function bearerToken(request: Request): string {
  return bearerTokenOf(request.headers.get('authorization'));
}

/** {@link bearerToken} from the Authorization header's value (null when absent). */
function bearerTokenOf(header: string | null): string {
  if (header === null || header.trim() === '') {
    throw new AuthError('token_missing', 'Missing Authorization header; send "Authorization: Bearer <token>".');
  }
  const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
  if (!match) {
    throw new AuthError('token_malformed', 'The Authorization header must be "Bearer <token>".');
  }
  return match[1]!;
}

/**
 * Creates a JWT authenticator. The user id is the `sub` claim, which must be a non-blank string.
 *
 * @example
 * const auth = createJwtAuth({ secret: process.env.JWT_SECRET! }, { issuer: 'my-app' });
 * const { userId } = await auth.authenticate(request);
 */
export function createJwtAuth(source: JwtKeySource, options: JwtAuthOptions = {}): JwtAuth {
  const { key, defaultAlgorithms } = keyFor(source);
  const verifyOptions: JWTVerifyOptions = {
    algorithms: options.algorithms ?? defaultAlgorithms,
    clockTolerance: options.clockToleranceSec ?? 0,
    ...(options.requireExp === false ? {} : { requiredClaims: ['exp'] }),
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
  };

  const toleranceMs = (options.clockToleranceSec ?? 0) * 1000;
  /** token text -> its user and `exp` in ms (Infinity without one); see {@link VERIFIED_TOKENS_MAX}. */
  const verified = key instanceof Uint8Array ? new Map<string, { userId: string; expiresAtMs: number }>() : null;

  async function verifyToken(token: string): Promise<AuthenticatedUser> {
    const hit = verified?.get(token);
    if (hit) {
      if (Date.now() < hit.expiresAtMs + toleranceMs) return { userId: hit.userId };
      // Expired: verify again below, which answers token_expired.
      verified!.delete(token);
    }
    let sub: unknown;
    let exp: unknown;
    try {
      // The overloads differ only in the key's type; both forms run the same verification.
      const { payload } =
        key instanceof Uint8Array ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions);
      sub = payload.sub;
      exp = payload.exp;
    } catch (err) {
      throw toAuthError(err);
    }
    if (typeof sub !== 'string' || sub.trim() === '') {
      throw new AuthError('token_claims_invalid', 'The token has no "sub" claim (the user id); it must be a non-blank string.');
    }
    // The user id is exactly `sub` (never trimmed): refuse what cannot be one, before any database work.
    const problem = identityProblem(sub, MAX_USER_ID_LENGTH);
    if (problem) throw new AuthError('token_claims_invalid', `The token's "sub" claim (the user id) ${problem}.`);
    if (verified) {
      if (verified.size >= VERIFIED_TOKENS_MAX) verified.delete(verified.keys().next().value!);
      verified.set(token, { userId: sub, expiresAtMs: typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY });
    }
    return { userId: sub };
  }

  const authenticate = async (request: Request): Promise<AuthenticatedUser> => verifyToken(bearerToken(request));
  registerHeaderAuthenticate(authenticate, async (header) => verifyToken(bearerTokenOf(header('authorization'))));
  return { verifyToken, authenticate };
}
