/**
 * `POST /dummy-signin` behaves like the go-oversync example: any password, a 300 s HS256 token whose
 * sub is the user, accepted by the sync endpoints; malformed sign-ins get typed 400/405 answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwtAuth } from '../../server/auth/index.ts';
import { REFERENCE_TEST_SECRET, startReferenceOnPostgres } from './fixtures/reference-in-process.ts';
import type { InProcessReference } from './fixtures/reference-in-process.ts';

let ref: InProcessReference;
beforeAll(async () => {
  ref = await startReferenceOnPostgres('signin');
});
afterAll(async () => {
  await ref?.close();
});

describe('reference server dummy sign-in', () => {
  it('issues a 300-second token for any password whose sub is the user', async () => {
    const response = await fetch(`${ref.server.url}/dummy-signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'dora@example.com', password: 'whatever' }),
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ expires_in: 300, user: 'dora@example.com' });
    await expect(createJwtAuth({ secret: REFERENCE_TEST_SECRET }).verifyToken(body.token)).resolves.toEqual({ userId: 'dora@example.com' });
    const claims = JSON.parse(Buffer.from(body.token.split('.')[1], 'base64url').toString('utf8'));
    expect(claims.exp - claims.iat).toBe(300);
  });

  it('rejects malformed sign-ins with invalid_request and other methods with method_not_allowed', async () => {
    for (const body of [
      '{nope',
      JSON.stringify({ password: 'x' }),
      JSON.stringify({ user: '   ' }),
      JSON.stringify({ user: 'ed', password: 42 }),
    ]) {
      const response = await fetch(`${ref.server.url}/dummy-signin`, { method: 'POST', body });
      expect(response.status, body).toBe(400);
      expect((await response.json()).error).toBe('invalid_request');
    }
    const get = await fetch(`${ref.server.url}/dummy-signin`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});
