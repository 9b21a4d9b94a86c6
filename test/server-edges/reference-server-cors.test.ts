/**
 * Browsers on any origin can use the reference server: preflights are answered, and every response
 * (errors included) carries the CORS headers the oversync client needs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceOnPostgres } from './fixtures/reference-in-process.ts';
import type { InProcessReference } from './fixtures/reference-in-process.ts';

let ref: InProcessReference;
beforeAll(async () => {
  ref = await startReferenceOnPostgres('cors');
});
afterAll(async () => {
  await ref?.close();
});

describe('reference server CORS', () => {
  it('answers a preflight with 204 and the allowed origin, methods and headers', async () => {
    const response = await fetch(`${ref.server.url}/sync/push-sessions`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:5173',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type, oversync-source-id',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, Oversync-Source-ID');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('puts the CORS headers on successful and on 401 responses', async () => {
    const token = await ref.tokenFor('alice');
    const ok = await fetch(`${ref.server.url}/sync/capabilities`, {
      headers: { Origin: 'https://app.example', Authorization: `Bearer ${token}`, 'Oversync-Source-ID': 'web-1' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    // Without it a browser hides Retry-After from the client, which then backs off blindly on 429/503.
    expect(ok.headers.get('access-control-expose-headers')).toBe('Retry-After');
    const denied = await fetch(`${ref.server.url}/sync/capabilities`, { headers: { Origin: 'https://app.example' } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('*');
  });
});
