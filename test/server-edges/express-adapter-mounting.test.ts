/**
 * The express middleware mounts under a prefix and hands the handler the full original URL, works
 * with or without a body parser in front, leaves the app's other routes alone, and answers auth
 * failures in the protocol envelope.
 */
import { createServer } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressMiddleware } from '../../server/adapters/index.ts';
import { createJwtAuth, signDevToken } from '../../server/auth/index.ts';
import { createEchoApp } from './fixtures/echo-app.ts';
import { listenOnFreePort } from './fixtures/listening.ts';

const secret = 'express-test-secret-0123456789abcdef';
let baseUrl: string;
let close: () => Promise<void>;
let bearer: string;

beforeAll(async () => {
  const echo = createEchoApp();
  const auth = createJwtAuth({ secret });
  const app = express();
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  // Mounted twice: once raw, once behind express.json(), which consumes the body first.
  app.use('/api', expressMiddleware(echo.handle, auth.authenticate));
  app.use('/parsed', express.json(), expressMiddleware(echo.handle, auth.authenticate));
  ({ baseUrl, close } = await listenOnFreePort(createServer(app)));
  bearer = `Bearer ${await signDevToken(secret, 'alice', 300)}`;
});
afterAll(async () => {
  await close();
});

describe('express adapter mounting', () => {
  it('passes the full URL including the mount prefix, and the authenticated user', async () => {
    const response = await fetch(`${baseUrl}/api/sync/echo?after=3`, { headers: { Authorization: bearer, 'Oversync-Source-ID': 'dev-1' } });
    expect(response.status).toBe(200);
    const echoed = await response.json();
    expect(echoed).toMatchObject({
      url: `${baseUrl}/api/sync/echo?after=3`,
      pathname: '/api/sync/echo',
      query: { after: '3' },
      userId: 'alice',
    });
    expect(echoed.headers['oversync-source-id']).toBe('dev-1');
  });

  it('streams an unparsed body, and re-encodes a body express.json() already parsed', async () => {
    const raw = await fetch(`${baseUrl}/api/sync/echo`, {
      method: 'POST',
      headers: { Authorization: bearer, 'content-type': 'application/json' },
      body: '{"a": 1}',
    });
    expect((await raw.json()).body).toBe('{"a": 1}');
    const parsed = await fetch(`${baseUrl}/parsed/sync/echo`, {
      method: 'POST',
      headers: { Authorization: bearer, 'content-type': 'application/json' },
      body: '{"has_local_pending_rows": true}',
    });
    const echoed = await parsed.json();
    expect(JSON.parse(echoed.body)).toEqual({ has_local_pending_rows: true });
    expect(echoed.pathname).toBe('/parsed/sync/echo');
  });

  it('leaves routes outside the mount prefix to express', async () => {
    const response = await fetch(`${baseUrl}/hello`);
    expect(await response.json()).toEqual({ hello: 'world' });
  });

  it('answers 401 authentication_failed as JSON for a bad token', async () => {
    const response = await fetch(`${baseUrl}/api/sync/echo`, { headers: { Authorization: 'Bearer nonsense' } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'authentication_failed' });
  });
});
