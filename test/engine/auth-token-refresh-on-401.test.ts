/**
 * Auth: a 401 triggers exactly one fresh `getToken()` and one retry; a second 401 puts the engine
 * in `auth_required` with an error event. Refresh is single-flight and happens ahead of a JWT's
 * `exp` (decoded with jose). Tokens never reach SQLite.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthTokenSource, REFRESH_AHEAD_MS } from '../../worker/engine/auth-token.ts';
import { SyncError } from '../../worker/engine/index.ts';
import type { SyncEvent } from '../../worker/engine/index.ts';
import { attachStartedEmpty, instantClock, openEngine } from './support/engine.ts';
import { rows } from './support/sqlite.ts';

const USERS = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';

async function jwt(expSeconds: number): Promise<string> {
  return new SignJWT({ sub: 'user-a' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(expSeconds)
    .sign(new TextEncoder().encode('test-secret-test-secret-test-secret'));
}

describe('auth', () => {
  it('refreshes once on 401 and retries once with the new token', async () => {
    const tokens = ['old-token', 'new-token'];
    const s = await openEngine(USERS, [{ table: 'users', syncKey: 'id' }], { getToken: async () => tokens.shift() ?? 'exhausted' });
    await attachStartedEmpty(s);
    s.server.on('GET', '/sync/pull', { status: 401, body: { error: 'authentication_failed', message: 'expired' } });
    s.server.on('GET', '/sync/pull', { status: 200, body: { stable_bundle_seq: 0, bundles: [], has_more: false } });
    // attach already used 'old-token' for capabilities+connect; the pull's 401 forces 'new-token'.
    const res = await s.engine.pullToStable();
    expect(res.outcome).toBe('already_at_target');
    const pulls = s.server.requestsTo('GET', '/sync/pull');
    expect(pulls.map((r) => r.headers.authorization)).toEqual(['Bearer old-token', 'Bearer new-token']);
    const dump = JSON.stringify(
      rows(s.db, "SELECT name FROM sqlite_master WHERE type = 'table'").flatMap((t) => rows(s.db, `SELECT * FROM "${t.name as string}"`)),
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    );
    expect(dump).not.toContain('token');
  });

  it('a second 401 reports auth_required (phase + error event) and stops there', async () => {
    let calls = 0;
    const s = await openEngine(USERS, [{ table: 'users', syncKey: 'id' }], {
      getToken: async () => `t${++calls}`,
    });
    await attachStartedEmpty(s);
    const events: SyncEvent[] = [];
    s.engine.subscribe((e) => events.push(e));
    s.server.on('GET', '/sync/pull', { status: 401, body: { error: 'authentication_failed', message: 'bad' } }, 2);
    const err = (await s.engine.pullToStable().catch((e: unknown) => e)) as SyncError;
    expect(err).toBeInstanceOf(SyncError);
    expect([err.code, err.status]).toEqual(['auth_required', 401]);
    expect(s.server.requestsTo('GET', '/sync/pull')).toHaveLength(2);
    expect(s.engine.status.phase).toBe('auth_required');
    expect(s.engine.status.lastError).toMatchObject({ code: 'auth_required' });
    expect(events.some((e) => e.type === 'error' && e.error.code === 'auth_required')).toBe(true);
  });

  it('getToken returning null is a typed auth_required error, not a request without a token', async () => {
    const s = await openEngine(USERS, [{ table: 'users', syncKey: 'id' }], { getToken: async () => null });
    const err = (await s.engine.attach('user-a').catch((e: unknown) => e)) as SyncError;
    expect(err.code).toBe('auth_required');
    expect(s.server.requests).toHaveLength(0);
  });

  it('concurrent refreshes share one getToken call (single-flight)', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const source = new AuthTokenSource(async () => {
      calls++;
      await gate;
      return `t${calls}`;
    }, instantClock());
    const all = Promise.all([source.current(), source.current(), source.refresh(), source.current()]);
    release();
    expect(await all).toEqual(['t1', 't1', 't1', 't1']);
    expect(calls).toBe(1);
  });

  it('refreshes ahead of a JWT exp, and not before', async () => {
    let now = 1_000_000_000_000;
    const clock = { ...instantClock(), now: () => now };
    const issued: string[] = [];
    const source = new AuthTokenSource(async () => {
      const t = await jwt(Math.floor(now / 1000) + 600);
      issued.push(t);
      return t;
    }, clock);
    const first = await source.current();
    now += 600_000 - REFRESH_AHEAD_MS - 1_000; // still more than the margin before exp
    expect(await source.current()).toBe(first);
    now += 2_000; // inside the refresh margin
    const second = await source.current();
    expect(issued).toHaveLength(2);
    expect(second).toBe(issued[1]);
  });
});

describe('attach checks the token subject', () => {
  it('refuses attach(userId) when the JWT belongs to someone else, before any request', async () => {
    const token = await new SignJWT({ sub: 'mallory' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('test-secret-test-secret-test-secret'));
    const s = await openEngine(USERS, [{ table: 'users', syncKey: 'id' }], { getToken: async () => token });
    await expect(s.engine.attach('user-a')).rejects.toMatchObject({ code: 'attach_user_mismatch' });
    expect(s.server.requests).toHaveLength(0);
    expect(s.engine.status.userId).toBeNull();
  });
});
