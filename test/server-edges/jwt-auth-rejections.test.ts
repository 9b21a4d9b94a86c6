/**
 * Every way a bearer token can be wrong is refused with its own AuthError code and a message that
 * says what to do; an adapter turns each into 401 authentication_failed.
 */
import { describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT } from 'jose';
import { AuthError, createJwtAuth, signDevToken } from '../../server/auth/index.ts';

const secret = 'test-secret-that-is-long-enough-for-hs256';
const auth = createJwtAuth({ secret });

function requestWith(authorization?: string): Request {
  return new Request('http://sync.test/sync/pull', authorization === undefined ? {} : { headers: { Authorization: authorization } });
}

async function rejection(request: Request): Promise<AuthError> {
  const err = await auth.authenticate(request).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(err).toBeInstanceOf(AuthError);
  const authError = err as AuthError;
  expect(authError.httpStatus).toBe(401);
  expect(authError.toWireError()).toEqual({ error: 'authentication_failed', message: authError.message });
  expect(authError.message.length).toBeGreaterThan(10);
  return authError;
}

describe('JWT auth rejections', () => {
  it('token_missing when there is no Authorization header', async () => {
    expect((await rejection(requestWith())).code).toBe('token_missing');
  });

  it('token_malformed for another scheme, a bare token, or a token that is not a JWT', async () => {
    const token = await signDevToken(secret, 'alice', 60);
    expect((await rejection(requestWith(`Basic ${Buffer.from('a:b').toString('base64')}`))).code).toBe('token_malformed');
    expect((await rejection(requestWith(token))).code).toBe('token_malformed');
    expect((await rejection(requestWith('Bearer not-a-jwt'))).code).toBe('token_malformed');
  });

  it('token_expired for a token past its exp', async () => {
    const expired = await signDevToken(secret, 'alice', -10);
    const err = await rejection(requestWith(`Bearer ${expired}`));
    expect(err.code).toBe('token_expired');
    expect(err.message).toMatch(/expired/);
  });

  it('token_invalid_signature for a token signed with another secret (forged)', async () => {
    const forged = await signDevToken('an-attacker-guessed-this-secret!!', 'alice', 60);
    expect((await rejection(requestWith(`Bearer ${forged}`))).code).toBe('token_invalid_signature');
  });

  it('token_invalid_signature for alg "none" (an unsigned token)', async () => {
    const unsigned = new UnsecuredJWT({}).setSubject('alice').setIssuedAt().setExpirationTime('1h').encode();
    expect(unsigned.endsWith('.')).toBe(true);
    expect((await rejection(requestWith(`Bearer ${unsigned}`))).code).toBe('token_invalid_signature');
  });

  it('token_invalid_signature for an algorithm other than HS256 (HS512 with the same secret)', async () => {
    const hs512 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('alice')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    expect((await rejection(requestWith(`Bearer ${hs512}`))).code).toBe('token_invalid_signature');
  });

  it('token_claims_invalid for a missing or blank sub', async () => {
    const key = new TextEncoder().encode(secret);
    const noSub = await new SignJWT({ name: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
    const blankSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('   ').setExpirationTime('1h').sign(key);
    const noSubError = await rejection(requestWith(`Bearer ${noSub}`));
    expect(noSubError.code).toBe('token_claims_invalid');
    expect(noSubError.message).toMatch(/sub/);
    expect((await rejection(requestWith(`Bearer ${blankSub}`))).code).toBe('token_claims_invalid');
  });

  it('token_claims_invalid for a token not valid yet (nbf in the future)', async () => {
    const key = new TextEncoder().encode(secret);
    const future = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setNotBefore('10m')
      .setExpirationTime('1h')
      .sign(key);
    expect((await rejection(requestWith(`Bearer ${future}`))).code).toBe('token_claims_invalid');
  });
});
