/**
 * The node:http adapter hands the handler a faithful fetch Request (method, full URL, query,
 * headers, streamed body, auth) and sends its Response back as written (status, headers, cookies).
 */
import { createServer, request as httpRequest, Agent } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNodeHandler } from '../../server/adapters/index.ts';
import { createJwtAuth, signDevToken } from '../../server/auth/index.ts';
import { createEchoApp } from './fixtures/echo-app.ts';
import { listenOnFreePort } from './fixtures/listening.ts';

const secret = 'adapter-test-secret-0123456789abcdef';
const auth = createJwtAuth({ secret });
let baseUrl: string;
let close: () => Promise<void>;
let bearer: string;

beforeAll(async () => {
  const app = createEchoApp();
  ({ baseUrl, close } = await listenOnFreePort(createServer(toNodeHandler(app.handle, auth.authenticate))));
  bearer = `Bearer ${await signDevToken(secret, 'alice', 300)}`;
});
afterAll(async () => {
  await close();
});

describe('node:http adapter requests', () => {
  it('passes method, full URL, query, headers and the authenticated user', async () => {
    const response = await fetch(`${baseUrl}/sync/echo?after=5&max=10`, {
      headers: { Authorization: bearer, 'Oversync-Source-ID': 'device-1', 'X-Trace': 'abc' },
    });
    expect(response.status).toBe(200);
    const echoed = await response.json();
    expect(echoed).toMatchObject({
      method: 'GET',
      url: `${baseUrl}/sync/echo?after=5&max=10`,
      pathname: '/sync/echo',
      query: { after: '5', max: '10' },
      body: null,
      userId: 'alice',
    });
    expect(echoed.headers).toMatchObject({ 'oversync-source-id': 'device-1', 'x-trace': 'abc', host: new URL(baseUrl).host });
  });

  it('streams a JSON body through, and a 1 MiB body arrives byte for byte', async () => {
    const json = await fetch(`${baseUrl}/sync/echo`, {
      method: 'POST',
      headers: { Authorization: bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ has_local_pending_rows: false }),
    });
    expect((await json.json()).body).toBe('{"has_local_pending_rows":false}');

    const big = randomBytes(1024 * 1024);
    const digest = await fetch(`${baseUrl}/digest`, { method: 'PUT', headers: { Authorization: bearer }, body: big });
    expect(await digest.json()).toEqual({ length: big.byteLength, sha256: createHash('sha256').update(big).digest('hex') });
  });

  it('keeps the connection usable when the handler never reads the body', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, body: Buffer) =>
      new Promise<{ status: number; reused: boolean; text: string }>((resolve, reject) => {
        const req = httpRequest(
          `${baseUrl}${path}`,
          { method: 'POST', agent, headers: { Authorization: bearer } },
          (res: IncomingMessage) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const first = await send('/ignore-body', randomBytes(256 * 1024));
    expect(first.status).toBe(202);
    const second = await send('/echo', Buffer.from('second'));
    expect(second.status).toBe(200);
    expect(JSON.parse(second.text).body).toBe('second');
    expect(second.reused).toBe(true);
    agent.destroy();
  });

  it('sends status, every Set-Cookie header, and no body for 204 and HEAD', async () => {
    const cookies = await fetch(`${baseUrl}/cookies`, { headers: { Authorization: bearer } });
    expect(cookies.status).toBe(204);
    expect(cookies.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    const head = await fetch(`${baseUrl}/echo`, { method: 'HEAD', headers: { Authorization: bearer } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json');
    expect(await head.text()).toBe('');
    const missing = await fetch(`${baseUrl}/nowhere`, { headers: { Authorization: bearer } });
    expect(missing.status).toBe(404);
  });

  it('passes a null user id when the host authenticator allows anonymous requests', async () => {
    const app = createEchoApp();
    const anonymous = await listenOnFreePort(createServer(toNodeHandler(app.handle, async () => ({ userId: null }))));
    const response = await fetch(`${anonymous.baseUrl}/syncx/echo`);
    expect((await response.json()).userId).toBeNull();
    await anonymous.close();
  });
});
