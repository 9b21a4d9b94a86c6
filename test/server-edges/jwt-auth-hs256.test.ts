/**
 * A valid HS256 bearer token authenticates as its `sub`; issuer, audience and clock tolerance are
 * enforced when configured.
 */
import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { createJwtAuth, signDevToken } from '../../server/auth/index.ts';

const secret = 'test-secret-that-is-long-enough-for-hs256';

function requestWith(token: string): Request {
  return new Request('http://sync.test/sync/capabilities', { headers: { Authorization: `Bearer ${token}` } });
}

describe('JWT auth with an HS256 secret', () => {
  it('authenticates a dev token as its sub', async () => {
    const auth = createJwtAuth({ secret });
    const token = await signDevToken(secret, 'alice@example.com', 300);
    await expect(auth.authenticate(requestWith(token))).resolves.toEqual({ userId: 'alice@example.com' });
  });

  it('accepts a lower-case bearer scheme and verifies raw tokens', async () => {
    const auth = createJwtAuth({ secret });
    const token = await signDevToken(secret, 'bob', 60);
    const request = new Request('http://sync.test/', { headers: { authorization: `bearer ${token}` } });
    await expect(auth.authenticate(request)).resolves.toEqual({ userId: 'bob' });
    await expect(auth.verifyToken(token)).resolves.toEqual({ userId: 'bob' });
  });

  it('checks issuer and audience when configured', async () => {
    const auth = createJwtAuth({ secret }, { issuer: 'oversqlite-tests', audience: 'sync' });
    const good = await signDevToken(secret, 'carol', 60, { issuer: 'oversqlite-tests', audience: 'sync' });
    await expect(auth.authenticate(requestWith(good))).resolves.toEqual({ userId: 'carol' });
    const wrongIssuer = await signDevToken(secret, 'carol', 60, { issuer: 'someone-else', audience: 'sync' });
    await expect(auth.authenticate(requestWith(wrongIssuer))).rejects.toMatchObject({ code: 'token_claims_invalid' });
    const noAudience = await signDevToken(secret, 'carol', 60, { issuer: 'oversqlite-tests' });
    await expect(auth.authenticate(requestWith(noAudience))).rejects.toMatchObject({ code: 'token_claims_invalid' });
  });

  it('tolerates clock skew up to clockToleranceSec', async () => {
    const key = new TextEncoder().encode(secret);
    const now = Math.floor(Date.now() / 1000);
    const justExpired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('dave')
      .setExpirationTime(now - 5)
      .sign(key);
    await expect(createJwtAuth({ secret }).authenticate(requestWith(justExpired))).rejects.toMatchObject({ code: 'token_expired' });
    await expect(createJwtAuth({ secret }, { clockToleranceSec: 30 }).authenticate(requestWith(justExpired))).resolves.toEqual({
      userId: 'dave',
    });
  });

  it('signs dev tokens with sub, iat, nbf and exp = iat + ttl', async () => {
    const token = await signDevToken(secret, 'erin', 300);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part!, 'base64url').toString('utf8')));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload.sub).toBe('erin');
    expect(payload.exp - payload.iat).toBe(300);
    expect(payload.nbf).toBe(payload.iat);
    await expect(signDevToken(secret, '  ', 300)).rejects.toThrow(/sub/);
  });
});
