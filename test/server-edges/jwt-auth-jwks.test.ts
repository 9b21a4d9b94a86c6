/**
 * JWKS verification: keys from a JWKS document served over real local HTTP (fetched by jose) or held
 * in memory. A token signed by a key outside the set is forged; an unreachable key set is a server
 * problem (503), not a bad token.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JSONWebKeySet } from 'jose';
import { AuthError, createJwtAuth } from '../../server/auth/index.ts';

let signingKey: CryptoKey;
let otherKey: CryptoKey;
let jwks: JSONWebKeySet;
let server: Server;
let jwksUrl: string;
let jwksFetches = 0;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  const other = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  otherKey = other.privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' }] };
  server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      jwksFetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function sign(key: CryptoKey, sub: string, kid = 'key-1'): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(key);
}

function requestWith(token: string): Request {
  return new Request('http://sync.test/sync/pull', { headers: { Authorization: `Bearer ${token}` } });
}

describe('JWT auth with a JWKS', () => {
  it('verifies a token against a JWKS fetched over HTTP', async () => {
    const auth = createJwtAuth({ jwksUrl });
    await expect(auth.authenticate(requestWith(await sign(signingKey, 'remote-user')))).resolves.toEqual({ userId: 'remote-user' });
    expect(jwksFetches).toBeGreaterThanOrEqual(1);
  });

  it('rejects a token signed by a key outside the remote set as token_invalid_signature', async () => {
    const auth = createJwtAuth({ jwksUrl });
    await expect(auth.authenticate(requestWith(await sign(otherKey, 'mallory')))).rejects.toMatchObject({
      code: 'token_invalid_signature',
    });
    await expect(auth.authenticate(requestWith(await sign(otherKey, 'mallory', 'unknown-kid')))).rejects.toMatchObject({
      code: 'token_invalid_signature',
    });
  });

  it('verifies against an in-memory JWKS', async () => {
    const auth = createJwtAuth({ jwks });
    await expect(auth.authenticate(requestWith(await sign(signingKey, 'local-user')))).resolves.toEqual({ userId: 'local-user' });
    await expect(auth.authenticate(requestWith(await sign(otherKey, 'mallory')))).rejects.toMatchObject({
      code: 'token_invalid_signature',
    });
  });

  it('refuses an HS256 token that uses the public key as the HMAC secret (algorithm confusion)', async () => {
    const auth = createJwtAuth({ jwks });
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
      .setSubject('mallory')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    await expect(auth.authenticate(requestWith(confused))).rejects.toMatchObject({ code: 'token_invalid_signature' });
  });

  it('reports an unreachable key set as key_set_unavailable (HTTP 503), not as a bad token', async () => {
    const missing = jwksUrl.replace('/.well-known/jwks.json', '/nothing-here');
    const err = await createJwtAuth({ jwksUrl: missing })
      .authenticate(requestWith(await sign(signingKey, 'remote-user')))
      .catch((caught: unknown) => caught);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).code).toBe('key_set_unavailable');
    expect((err as AuthError).httpStatus).toBe(503);
  });
});
