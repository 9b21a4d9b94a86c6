/**
 * The node:http adapter sends a JSON response the server built from text in one write with its
 * Content-Length (not chunked), byte for byte what the handler's Response carries, with the
 * headers as the Response has them when it reaches the adapter (a host may have changed them).
 */
import { request as httpRequest, createServer } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { toNodeHandler } from '../../server/adapters/index.ts';
import { jsonReply } from '../../server/http/responses.ts';
import { replyToResponse } from '../../server/http/sync-exchange.ts';
import { listenOnFreePort } from './fixtures/listening.ts';

let baseUrl: string;
let close: () => Promise<void>;
const body = { text: 'grüße ✓', n: 12345678901234, list: [1, 'two', null] };

beforeAll(async () => {
  const listener = toNodeHandler(
    async (request) => {
      const response = replyToResponse(jsonReply(new URL(request.url).pathname === '/missing' ? 404 : 200, body));
      response.headers.set('x-host-header', 'kept');
      return response;
    },
    async () => ({ userId: 'alice' }),
  );
  ({ baseUrl, close } = await listenOnFreePort(createServer(listener)));
});
afterAll(() => close());

/** Raw response head and body bytes (fetch would hide Transfer-Encoding). */
function rawGet(
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

it('sends the JSON text with its byte length, not chunked', async () => {
  for (const path of ['/sync/x', '/missing']) {
    const res = await rawGet(path);
    expect(res.status).toBe(path === '/missing' ? 404 : 200);
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(body))));
    expect(res.bytes.toString('utf8')).toBe(JSON.stringify(body));
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-host-header']).toBe('kept');
  }
});

it('answers HEAD with the headers and no body', async () => {
  const res = await rawGet('/sync/x', 'HEAD');
  expect(res.status).toBe(200);
  expect(res.headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(body))));
  expect(res.bytes.length).toBe(0);
});
