/**
 * Development sign-in against the reference server's `POST /dummy-signin`, and the device's
 * remembered user. The reference server mints a short-lived bearer token for any user name; the
 * demo remembers the user name and password (localStorage) so that `getToken()` can fetch a fresh
 * token whenever the sync engine asks for one (at start, before expiry, after a 401). A real app
 * would keep a refresh token or a session cookie instead; tokens themselves are never stored.
 */

import type { DummySigninRequest, DummySigninResponse } from '../../protocol/public.ts';

/** The user remembered on this device. */
export interface RememberedUser {
  readonly user: string;
  readonly password: string;
}

/** The localStorage key of the remembered user (tabs watch it to follow sign-in and sign-out). */
export const userStorageKey = 'oversqlite-demo:user';

/** The sign-in request did not reach the server (offline, server down): worth retrying. */
export class ServerUnreachableError extends Error {
  override readonly name = 'ServerUnreachableError';
}

/** Signs in at the server; throws an Error with a readable message on failure. */
export async function devSignIn(serverUrl: string, user: string, password: string): Promise<DummySigninResponse> {
  let response: Response;
  try {
    response = await fetch(`${serverUrl}/dummy-signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password } satisfies DummySigninRequest),
    });
  } catch {
    throw new ServerUnreachableError(`Cannot reach the sync server at ${serverUrl}. Is \`npm run demo\` running, and are you online?`);
  }
  const body = (await response.json().catch(() => null)) as (Partial<DummySigninResponse> & { message?: string; error?: string }) | null;
  if (!response.ok || body === null || typeof body.token !== 'string') {
    throw new Error(`Sign-in failed (${response.status}): ${body?.message ?? body?.error ?? response.statusText}`);
  }
  return { token: body.token, expires_in: Number(body.expires_in), user: String(body.user ?? user) };
}

/** The user signed in on this device, or null. */
export function rememberedUser(): RememberedUser | null {
  try {
    const parsed = JSON.parse(localStorage.getItem(userStorageKey) ?? 'null') as Partial<RememberedUser> | null;
    return parsed !== null && typeof parsed.user === 'string' && typeof parsed.password === 'string'
      ? { user: parsed.user, password: parsed.password }
      : null;
  } catch {
    return null;
  }
}

/** Remembers (or with null, forgets) the signed-in user. Shared by every tab of the origin. */
export function rememberUser(user: RememberedUser | null): void {
  if (user === null) localStorage.removeItem(userStorageKey);
  else localStorage.setItem(userStorageKey, JSON.stringify(user));
}

/** Waits between sign-in attempts of {@link tokenSource}. */
const TOKEN_RETRY_DELAYS_MS = [500, 1500];

/**
 * The `getToken` the sync engine calls: a fresh token for the remembered user. It runs in the
 * leader tab; the engine caches the token and calls again only before expiry or after a 401.
 * Returns null when nobody is signed in (the engine then reports `auth_required`). A server that
 * cannot be reached is retried briefly first; if it stays unreachable the call throws, which the
 * engine reports as `token_unavailable` and retries with backoff (automatic sync goes on).
 */
export function tokenSource(serverUrl: string): () => Promise<string | null> {
  return async () => {
    for (let attempt = 0; ; attempt++) {
      const remembered = rememberedUser();
      if (remembered === null) return null;
      try {
        return (await devSignIn(serverUrl, remembered.user, remembered.password)).token;
      } catch (error) {
        const delay = TOKEN_RETRY_DELAYS_MS[attempt];
        if (!(error instanceof ServerUnreachableError) || delay === undefined || !navigator.onLine) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
}
