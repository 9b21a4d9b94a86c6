/**
 * A `getToken()` that throws or rejects (the identity server is briefly unreachable) is a
 * transient failure: typed `token_unavailable` in `status.lastError` and an `error` event, the
 * phase is never `auth_required`, and the scheduler retries with backoff until a token comes
 * back. A `401` whose refresh throws is the same transient failure. Only `null` ("signed out") and
 * a confirmed second 401 after a fresh token are `auth_required`, which stops automatic runs
 * until an explicit call succeeds. Fake timers drive the scheduler; nothing sleeps.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineClock, SyncEvent } from '../../worker/engine/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
afterEach(() => vi.useRealTimers());

const clock: EngineClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  random: () => 0.5, // backoff without jitter: 1 s, 2 s, 4 s, ...
};

const USERS = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const EMPTY_PULL = { status: 200, body: { stable_bundle_seq: 0, bundles: [], has_more: false } };

/**
 * A JWT that is always inside the refresh margin, so every request asks `getToken()` again. Built
 * synchronously (the engine decodes `exp`/`sub` and never verifies: that is the server's job), so
 * fake timers alone drive the test.
 */
function shortLivedJwt(): Promise<string> {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return Promise.resolve(`${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'user-a', exp: Math.floor(Date.now() / 1000) + 30 })}.c2ln`);
}

type TokenMode = 'ok' | 'throws' | 'rejects' | 'signed-out';

async function setup(): Promise<{ s: EngineSetup; events: SyncEvent[]; mode: { value: TokenMode }; calls: () => number }> {
  const mode = { value: 'ok' as TokenMode };
  let calls = 0;
  const s = await openEngine(USERS, [{ table: 'users', syncKey: 'id' }], {
    clock,
    autoSync: { debounceMs: 0, intervalMs: 0, watch: false },
    getToken: () => {
      calls++;
      switch (mode.value) {
        case 'ok':
          return shortLivedJwt();
        case 'throws':
          throw new Error('identity server unreachable');
        case 'rejects':
          return Promise.reject(new TypeError('Failed to fetch'));
        case 'signed-out':
          return Promise.resolve(null);
      }
    },
  });
  await attachStartedEmpty(s);
  await vi.advanceTimersByTimeAsync(0);
  const events: SyncEvent[] = [];
  s.engine.subscribe((e) => events.push(e));
  return { s, events, mode, calls: () => calls };
}

const errorCodes = (events: SyncEvent[]): string[] => events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []));
const phases = (events: SyncEvent[]): string[] => events.flatMap((e) => (e.type === 'status' ? [e.status.phase] : []));

describe('getToken failures are transient', () => {
  for (const failure of ['throws', 'rejects'] as const) {
    it(`a getToken that ${failure} is token_unavailable, retried with backoff until a token comes back`, async () => {
      const { s, events, mode, calls } = await setup();
      s.server.always('GET', '/sync/pull', EMPTY_PULL);
      const pullsBefore = s.server.requestsTo('GET', '/sync/pull').length;
      mode.value = failure;
      const callsBefore = calls();

      s.engine.setOnline(false);
      s.engine.setOnline(true); // coming online triggers an automatic run
      await vi.advanceTimersByTimeAsync(0);
      expect(calls()).toBe(callsBefore + 1);
      expect(errorCodes(events)).toEqual(['token_unavailable']);
      expect(s.engine.status.lastError).toMatchObject({ code: 'token_unavailable' });
      expect(s.engine.status.phase).toBe('idle');

      await vi.advanceTimersByTimeAsync(1000); // first backoff step
      expect(calls()).toBe(callsBefore + 2);
      expect(errorCodes(events)).toEqual(['token_unavailable', 'token_unavailable']);

      mode.value = 'ok'; // the identity server is back
      await vi.advanceTimersByTimeAsync(2000); // second backoff step
      expect(calls()).toBe(callsBefore + 3);
      expect(s.server.requestsTo('GET', '/sync/pull').length).toBe(pullsBefore + 1);
      expect(s.engine.status.lastError).toBeNull();
      expect(s.engine.status.lastSyncAt).toBe(Date.now());
      expect(phases(events)).not.toContain('auth_required');
      await s.engine.close();
    });
  }

  it('a 401 whose token refresh throws is token_unavailable too, not auth_required', async () => {
    const { s, events, mode } = await setup();
    // The request goes out with a token; the refresh after its 401 fails.
    s.server.on('GET', '/sync/pull', () => {
      mode.value = 'throws';
      return { status: 401, body: { error: 'authentication_failed', message: 'expired' } };
    });
    s.server.always('GET', '/sync/pull', EMPTY_PULL);
    s.engine.setOnline(false);
    s.engine.setOnline(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(errorCodes(events)).toEqual(['token_unavailable']);
    expect(s.server.requestsTo('GET', '/sync/pull')).toHaveLength(1);
    expect(s.engine.status.phase).toBe('idle');
    expect(phases(events)).not.toContain('auth_required');
    mode.value = 'ok';
    await vi.advanceTimersByTimeAsync(1000); // the scheduler's backoff retry succeeds
    expect(s.server.requestsTo('GET', '/sync/pull')).toHaveLength(2);
    expect(s.engine.status.lastError).toBeNull();
    await s.engine.close();
  });
});

describe('signed out and a confirmed 401 are auth_required', () => {
  it('getToken returning null stops automatic runs until an explicit call succeeds', async () => {
    const { s, events, mode, calls } = await setup();
    s.server.always('GET', '/sync/pull', EMPTY_PULL);
    mode.value = 'signed-out';
    s.engine.setOnline(false);
    s.engine.setOnline(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(errorCodes(events)).toEqual(['auth_required']);
    expect(s.engine.status.phase).toBe('auth_required');
    const callsWhileBlocked = calls();
    await vi.advanceTimersByTimeAsync(120_000); // no backoff retries while signed out
    expect(calls()).toBe(callsWhileBlocked);

    mode.value = 'ok';
    await s.engine.sync(); // the app signed in again and syncs explicitly
    expect(s.engine.status.phase).toBe('idle');
    expect(s.engine.status.lastError).toBeNull();
    await s.engine.close();
  });

  it('a second 401 after a fresh token is auth_required and stops automatic runs', async () => {
    const { s, events } = await setup();
    s.server.on('GET', '/sync/pull', { status: 401, body: { error: 'authentication_failed', message: 'revoked' } }, 2);
    s.engine.setOnline(false);
    s.engine.setOnline(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(s.server.requestsTo('GET', '/sync/pull')).toHaveLength(2);
    expect(errorCodes(events)).toEqual(['auth_required']);
    expect(s.engine.status.phase).toBe('auth_required');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(s.server.requestsTo('GET', '/sync/pull')).toHaveLength(2);
    await s.engine.close();
  });
});
