/**
 * Failures at the node:http adapter: authentication failures answer 401 authentication_failed in
 * the protocol envelope (503 when the key set is unreachable); anything else thrown answers a
 * generic 500 and goes to onError, never to the client.
 */
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNodeHandler } from '../../server/adapters/index.ts';
import { AuthError, createJwtAuth, signDevToken } from '../../server/auth/index.ts';
import { createEchoApp } from './fixtures/echo-app.ts';
import { listenOnFreePort } from './fixtures/listening.ts';

const secret = 'adapter-test-secret-0123456789abcdef';
const servers: Array<() => Promise<void>> = [];
const adapterErrors: unknown[] = [];
let baseUrl: string;

beforeAll(async () => {
  const app = createEchoApp();
  const listener = toNodeHandler(app.handle, createJwtAuth({ secret }).authenticate, { onError: (err) => adapterErrors.push(err) });
  const started = await listenOnFreePort(createServer(listener));
  baseUrl = started.baseUrl;
  servers.push(started.close);
});
afterAll(async () => {
  await Promise.all(servers.map((close) => close()));
});

async function startWith(authenticate: (request: Request) => Promise<{ userId: string | null }>): Promise<string> {
  const app = createEchoApp();
  const started = await listenOnFreePort(
    createServer(toNodeHandler(app.handle, authenticate, { onError: (err) => adapterErrors.push(err) })),
  );
  servers.push(started.close);
  return started.baseUrl;
}

describe('node:http adapter errors', () => {
  it('answers 401 authentication_failed for a missing, expired or forged token', async () => {
    const expired = await signDevToken(secret, 'alice', -60);
    const forged = await signDevToken('not-the-server-secret-at-all-00000', 'alice', 60);
    const cases: Array<Record<string, string>> = [{}, { Authorization: `Bearer ${expired}` }, { Authorization: `Bearer ${forged}` }];
    for (const headers of cases) {
      const response = await fetch(`${baseUrl}/sync/echo`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = await response.json();
      expect(body.error).toBe('authentication_failed');
      expect(typeof body.message).toBe('string');
    }
  });

  it('answers 503 service_unavailable when the key set cannot be loaded', async () => {
    const url = await startWith(async () => {
      throw new AuthError('key_set_unavailable', 'The verification key set could not be loaded: connection refused.');
    });
    const response = await fetch(`${url}/sync/echo`);
    expect(response.status).toBe(503);
    expect((await response.json()).error).toBe('service_unavailable');
  });

  it('answers 500 internal_error without details when the authenticator or handler throws', async () => {
    const url = await startWith(async () => {
      throw new Error('authenticator bug with secret details');
    });
    const fromAuth = await fetch(`${url}/sync/echo`);
    expect(fromAuth.status).toBe(500);
    const authBody = await fromAuth.json();
    expect(authBody.error).toBe('internal_error');
    expect(JSON.stringify(authBody)).not.toMatch(/secret details/);

    const token = await signDevToken(secret, 'alice', 60);
    const fromHandler = await fetch(`${baseUrl}/throw`, { headers: { Authorization: `Bearer ${token}` } });
    expect(fromHandler.status).toBe(500);
    const handlerBody = await fromHandler.json();
    expect(handlerBody.error).toBe('internal_error');
    expect(JSON.stringify(handlerBody)).not.toMatch(/on purpose/);

    const messages = adapterErrors.map((err) => (err instanceof Error ? err.message : String(err)));
    expect(messages).toContain('authenticator bug with secret details');
    expect(messages).toContain('handler blew up on purpose');
  });

  it('answers 400 invalid_request for a request whose URL cannot be formed (bad Host header)', async () => {
    const { hostname, port } = new URL(baseUrl);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.end('GET /sync/echo HTTP/1.1\r\nHost: not a host\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw.startsWith('HTTP/1.1 400')).toBe(true);
    expect(raw).toContain('"error":"invalid_request"');
  });
});
