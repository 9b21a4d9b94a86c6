/** Development tokens: what the reference server's `/dummy-signin` hands out. */
import { SignJWT } from 'jose';

/** Optional claims for {@link signDevToken}. */
export interface DevTokenOptions {
  /** `iss` claim. */
  issuer?: string;
  /** `aud` claim. */
  audience?: string | string[];
}

/**
 * Signs an HS256 token whose `sub` is `sub`, valid for `ttlSec` seconds from now (`iat`, `nbf`,
 * `exp` set). For development sign-in and tests; production hosts bring their own identity provider.
 */
export async function signDevToken(
  secret: string | Uint8Array,
  sub: string,
  ttlSec: number,
  options: DevTokenOptions = {},
): Promise<string> {
  if (sub.trim() === '') throw new TypeError('signDevToken: sub (the user id) must be a non-blank string.');
  if (!Number.isFinite(ttlSec)) throw new TypeError('signDevToken: ttlSec must be a finite number of seconds.');
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + ttlSec);
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(key);
}
