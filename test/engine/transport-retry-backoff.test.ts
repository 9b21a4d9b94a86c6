/**
 * Transport retries: 429/502/503/504 and network failures are retried with exponential backoff
 * and jitter (delays recorded by the injected clock, no real sleeping); other errors are not;
 * exhaustion keeps the typed code. Error envelopes become `SyncError {code, status, message}`.
 */
import { describe, expect, it } from 'vitest';
import { AuthTokenSource } from '../../worker/engine/auth-token.ts';
import { SyncError } from '../../worker/engine/index.ts';
import { SyncTransport } from '../../worker/engine/transport.ts';
import { instantClock } from './support/engine.ts';
import { ScriptedServer } from './support/scripted-server.ts';

function transport(server: ScriptedServer, random = 0.5) {
  const clock = { ...instantClock(), random: () => random };
  const sleeps: number[] = [];
  clock.sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  const t = new SyncTransport(server.baseUrl, () => 'src-1', new AuthTokenSource(async () => 'tok', clock), server.fetch, clock, {
    attempts: 4,
    initialDelayMs: 100,
    maxDelayMs: 1000,
    jitter: 0.2,
  });
  return { t, sleeps };
}

describe('transport retries', () => {
  it('retries 503/502/504/429 with doubling delays, then succeeds', async () => {
    const server = new ScriptedServer();
    server.on('GET', '/sync/capabilities', { status: 503, body: { error: 'service_unavailable', message: 'draining' } });
    server.on('GET', '/sync/capabilities', { status: 502, body: 'bad gateway' });
    server.on('GET', '/sync/capabilities', { status: 429, body: { error: 'too_many', message: 'slow down' } });
    server.on('GET', '/sync/capabilities', { status: 200, body: { ok: true } });
    const { t, sleeps } = transport(server);
    expect(await t.json({ method: 'GET', path: '/sync/capabilities' })).toEqual({ ok: true });
    expect(sleeps).toEqual([100, 200, 400]); // random 0.5 → no jitter offset
  });

  it('applies ±20% jitter', async () => {
    for (const [random, factor] of [
      [0, 0.8],
      [1, 1.2],
    ] as const) {
      const server = new ScriptedServer();
      server.on('GET', '/sync/pull', { status: 504, body: {} });
      server.on('GET', '/sync/pull', { status: 200, body: {} });
      const { t, sleeps } = transport(server, random);
      await t.json({ method: 'GET', path: '/sync/pull' });
      expect(sleeps[0]).toBeCloseTo(100 * factor);
    }
  });

  it('retries network failures and reports exhaustion with the typed code', async () => {
    const server = new ScriptedServer();
    server.always('GET', '/sync/pull', () => Promise.reject(new TypeError('fetch failed')));
    const { t, sleeps } = transport(server);
    const err = await t.json({ method: 'GET', path: '/sync/pull' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncError);
    expect((err as SyncError).code).toBe('network_error');
    expect((err as SyncError).message).toContain('gave up after 4 attempts');
    expect(sleeps).toHaveLength(3);
  });

  it('does not retry 500 or 409, and keeps the envelope code, status and message', async () => {
    const server = new ScriptedServer();
    server.on('GET', '/sync/pull', { status: 500, body: { error: 'pull_failed', message: 'boom' } });
    const { t, sleeps } = transport(server);
    const err = (await t.json({ method: 'GET', path: '/sync/pull' }).catch((e: unknown) => e)) as SyncError;
    expect([err.code, err.status]).toEqual(['pull_failed', 500]);
    expect(err.message).toContain('boom');
    expect(sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('a plain-text error body still yields a typed error', async () => {
    const server = new ScriptedServer();
    server.on('POST', '/sync/connect', () => new Response('nope', { status: 418 }));
    const { t } = transport(server);
    const err = (await t.json({ method: 'POST', path: '/sync/connect', body: {} }).catch((e: unknown) => e)) as SyncError;
    expect([err.code, err.status]).toEqual(['http_418', 418]);
  });

  it('a 2xx body that is not JSON is a bad_server_response', async () => {
    const server = new ScriptedServer();
    server.on('GET', '/sync/pull', () => new Response('<html>', { status: 200 }));
    const { t } = transport(server);
    const err = (await t.json({ method: 'GET', path: '/sync/pull' }).catch((e: unknown) => e)) as SyncError;
    expect(err.code).toBe('bad_server_response');
  });
});
