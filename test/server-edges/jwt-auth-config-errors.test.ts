/**
 * createJwtAuth refuses a key source it cannot use at construction, with JwtAuthConfigError
 * (code auth_config_invalid) and a message that says what to pass — not later, as a bad token.
 */
import { describe, expect, it } from 'vitest';
import { createJwtAuth, JwtAuthConfigError } from '../../server/auth/index.ts';
import type { JwtKeySource } from '../../server/auth/index.ts';

describe('JWT auth configuration errors', () => {
  it.each([
    [{ secret: '' }, /secret is empty/],
    [{ secret: new Uint8Array() }, /secret is empty/],
    [{ jwksUrl: 'not a url' }, /not an absolute URL/],
    [{ jwks: {} } as unknown as JwtKeySource, /pass \{ secret \}/],
    [{} as unknown as JwtKeySource, /pass \{ secret \}/],
  ])('refuses %j', (source, message) => {
    let caught: unknown;
    try {
      createJwtAuth(source);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(JwtAuthConfigError);
    expect(caught).toMatchObject({ code: 'auth_config_invalid' });
    expect((caught as Error).message).toMatch(message);
  });
});
