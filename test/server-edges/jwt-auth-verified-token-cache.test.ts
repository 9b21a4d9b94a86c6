/**
 * An HS256 authenticator remembers tokens it has verified (servers see the same token on every
 * request of a device), and the memory never widens what is accepted: a remembered token stops at
 * its `exp` (token_expired), a token with the same claims but another signature is still refused,
 * and another authenticator (other secret or claim options) verifies on its own.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { createJwtAuth } from '../../server/auth/index.ts';

const secret = 'test-secret-that-is-long-enough-for-hs256';
const key = new TextEncoder().encode(secret);

function sign(sub: string, expSec: number, extra: { issuer?: string; signKey?: Uint8Array } = {}): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime(expSec);
  if (extra.issuer) jwt.setIssuer(extra.issuer);
  return jwt.sign(extra.signKey ?? key);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('JWT auth: verified HS256 tokens are remembered until they expire', () => {
  it('accepts a remembered token again and refuses it once its exp has passed', async () => {
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    const auth = createJwtAuth({ secret });
    const token = await sign('alice', Math.floor(now / 1000) + 60);
    await expect(auth.verifyToken(token)).resolves.toEqual({ userId: 'alice' });
    await expect(auth.verifyToken(token)).resolves.toEqual({ userId: 'alice' });

    vi.setSystemTime(now + 61_000);
    await expect(auth.verifyToken(token)).rejects.toMatchObject({ code: 'token_expired' });
    await expect(auth.verifyToken(token)).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('honours clockToleranceSec for a remembered token as for a fresh one', async () => {
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    const auth = createJwtAuth({ secret }, { clockToleranceSec: 30 });
    const token = await sign('bob', Math.floor(now / 1000) + 10);
    await expect(auth.verifyToken(token)).resolves.toEqual({ userId: 'bob' });
    vi.setSystemTime(now + 25_000);
    await expect(auth.verifyToken(token)).resolves.toEqual({ userId: 'bob' });
    vi.setSystemTime(now + 45_000);
    await expect(auth.verifyToken(token)).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('still refuses a token with the same claims signed with another key', async () => {
    const auth = createJwtAuth({ secret });
    const exp = Math.floor(Date.now() / 1000) + 60;
    await expect(auth.verifyToken(await sign('carol', exp))).resolves.toEqual({ userId: 'carol' });
    const forged = await sign('carol', exp, { signKey: new TextEncoder().encode('another-secret-that-is-long-enough-too') });
    await expect(auth.verifyToken(forged)).rejects.toMatchObject({ code: 'token_invalid_signature' });
  });

  it('remembers per authenticator: other options verify the same token themselves', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = await sign('dave', exp, { issuer: 'someone-else' });
    await expect(createJwtAuth({ secret }).verifyToken(token)).resolves.toEqual({ userId: 'dave' });
    await expect(createJwtAuth({ secret }, { issuer: 'my-app' }).verifyToken(token)).rejects.toMatchObject({
      code: 'token_claims_invalid',
    });
    await expect(createJwtAuth({ secret: 'a-different-secret-long-enough-for-hs256' }).verifyToken(token)).rejects.toMatchObject({
      code: 'token_invalid_signature',
    });
  });

  it('does not remember a refused token', async () => {
    const auth = createJwtAuth({ secret });
    const blankSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('  ').setExpirationTime('1m').sign(key);
    await expect(auth.verifyToken(blankSub)).rejects.toMatchObject({ code: 'token_claims_invalid' });
    await expect(auth.verifyToken(blankSub)).rejects.toMatchObject({ code: 'token_claims_invalid' });
  });
});
