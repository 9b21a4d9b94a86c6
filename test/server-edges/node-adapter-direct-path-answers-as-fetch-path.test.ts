/**
 * Mounted as `toNodeHandler(sync.handle, auth.authenticate)` (and `expressMiddleware`), the server
 * serves Node requests without fetch `Request`/`Response` objects. Every answer must be what the
 * fetch path gives for the same request — status, headers that matter, body bytes — including auth
 * failures, unknown routes, wrong methods, bad and oversized bodies, a body that arrives in pieces,
 * a body a parser already read, a custom authenticator and the watch stream. The fetch path is the
 * same server behind a wrapping function (any handler the adapter does not know). Only the framing
 * may differ: the direct path sends every JSON answer with its Content-Length.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { RequestListener } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSyncServer } from '../../server/index.ts';
import type { SyncServer } from '../../server/index.ts';
import { expressMiddleware, toNodeHandler } from '../../server/adapters/index.ts';
import type { Authenticate } from '../../server/adapters/index.ts';
import { createJwtAuth, signDevToken } from '../../server/auth/index.ts';
import { SseReader } from '../harness/sse-reader.ts';
import { createFreshDatabase } from './fixtures/postgres-database.ts';
import type { FreshDatabase } from './fixtures/postgres-database.ts';
import { listenOnFreePort } from './fixtures/listening.ts';
import { loadSampleSchema } from './fixtures/framework-watch-check.ts';

const secret = 'direct-path-secret-0123456789abcdef';
const MAX_BODY = 4096;
let database: FreshDatabase;
let sync: SyncServer;
const servers: Array<{ close(): Promise<void> }> = [];
/** Base URLs: the direct path and the fetch path, for node:http, express and a custom authenticator. */
const bases: Record<'direct' | 'fetch' | 'expressDirect' | 'expressFetch' | 'customDirect' | 'customFetch', string> = {
  direct: '',
  fetch: '',
  expressDirect: '',
  expressFetch: '',
  customDirect: '',
  customFetch: '',
};

beforeAll(async () => {
  database = await createFreshDatabase('direct_path');
  await loadSampleSchema(database.url);
  sync = await createSyncServer({
    database: { connectionString: database.url },
    tables: [{ schema: 'business', table: 'projects', syncKey: 'id' }],
    watch: { enabled: true },
    limits: { maxRequestBodyBytes: MAX_BODY },
  });
  const auth = createJwtAuth({ secret });
  const wrapped = (request: Request, a: { userId: string | null }) => sync.handle(request, a);
  // A host's own authenticator: anonymous without a header (as the test harness does).
  const custom: Authenticate = async (request) => (request.headers.has('authorization') ? auth.authenticate(request) : { userId: null });
  const listen = async (key: keyof typeof bases, listener: RequestListener) => {
    const s = await listenOnFreePort(createServer(listener));
    servers.push(s);
    bases[key] = s.baseUrl;
  };
  await listen('direct', toNodeHandler(sync.handle, auth.authenticate));
  await listen('fetch', toNodeHandler(wrapped, auth.authenticate));
  await listen('customDirect', toNodeHandler(sync.handle, custom));
  await listen('customFetch', toNodeHandler(wrapped, custom));
  for (const [key, handle] of [
    ['expressDirect', sync.handle],
    ['expressFetch', wrapped],
  ] as const) {
    const app = express();
    app.use('/api', express.json(), expressMiddleware(handle, auth.authenticate));
    await listen(key, app);
  }
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await sync?.close();
  await database?.drop();
});

interface Raw {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** One request over a raw socket; `pieces` sends the body in separate writes. */
function send(base: string, method: string, path: string, headers: Record<string, string>, pieces: string[] = []): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: {
            'content-type': res.headers['content-type'],
            'content-length': res.headers['content-length'],
            'transfer-encoding': res.headers['transfer-encoding'],
            allow: res.headers.allow,
          },
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    const [first, ...rest] = pieces;
    if (first === undefined) {
      req.end();
      return;
    }
    req.write(first);
    let i = 0;
    const next = (): void => {
      if (i === rest.length) req.end();
      else req.write(rest[i++]!, () => setImmediate(next));
    };
    setImmediate(next);
  });
}

async function headersFor(user: string): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await signDevToken(secret, user, 300)}`, 'Oversync-Source-ID': `${user}-device` };
}

/** The same request through `a` and `b` (each with its own user, so state changes match). */
async function expectSameAnswer(
  a: keyof typeof bases,
  b: keyof typeof bases,
  method: string,
  path: string,
  headers: (side: 'a' | 'b') => Promise<Record<string, string>>,
  pieces: string[] = [],
): Promise<Raw> {
  const ra = await send(bases[a], method, path, await headers('a'), pieces);
  const rb = await send(bases[b], method, path, await headers('b'), pieces);
  // Framing may differ: the direct path always sends a JSON body with its length.
  const { 'content-length': length, 'transfer-encoding': _a, ...headersA } = ra.headers;
  const { 'content-length': _lb, 'transfer-encoding': _b, ...headersB } = rb.headers;
  expect({ ...ra, headers: headersA }).toEqual({ ...rb, headers: headersB });
  if (a === 'direct' && ra.body !== '') expect(length).toBe(String(Buffer.byteLength(ra.body)));
  return ra;
}

it('answers every kind of request as the fetch path does', async () => {
  const none = async () => ({});
  const authed = (user: string) => async (side: 'a' | 'b') => headersFor(`${user}-${side}`);
  const json = (user: string) => async (side: 'a' | 'b') => ({
    ...(await headersFor(`${user}-${side}`)),
    'Content-Type': 'application/json',
  });

  expect((await expectSameAnswer('direct', 'fetch', 'GET', '/sync/capabilities', authed('cap'))).status).toBe(200);
  expect((await expectSameAnswer('direct', 'fetch', 'GET', '/sync/capabilities', none)).status).toBe(401);
  const badToken = async () => ({ Authorization: 'Bearer not.a.token' });
  expect((await expectSameAnswer('direct', 'fetch', 'GET', '/sync/capabilities', badToken)).status).toBe(401);
  const malformed = async () => ({ Authorization: 'Basic abc' });
  expect((await expectSameAnswer('direct', 'fetch', 'GET', '/sync/capabilities', malformed)).status).toBe(401);
  expect((await expectSameAnswer('direct', 'fetch', 'GET', '/sync/nothing-here', authed('nf'))).status).toBe(404);
  const wrongMethod = await expectSameAnswer('direct', 'fetch', 'DELETE', '/sync/capabilities', authed('m'));
  expect([wrongMethod.status, wrongMethod.headers.allow]).toEqual([405, 'GET']);
  expect((await expectSameAnswer('direct', 'fetch', 'GET', '/sync/pull?after_bundle_seq=x', authed('q'))).status).toBe(400);
  expect((await expectSameAnswer('direct', 'fetch', 'GET', '/sync/pull', async () => ({}))).status).toBe(401);
  const noSource = async (side: 'a' | 'b') => ({ Authorization: (await headersFor(`ns-${side}`)).Authorization! });
  expect((await expectSameAnswer('direct', 'fetch', 'GET', '/sync/pull', noSource)).status).toBe(400);
  expect((await expectSameAnswer('direct', 'fetch', 'POST', '/sync/connect', json('bad'), ['{not json'])).status).toBe(400);
  const big = JSON.stringify({ has_local_pending_rows: false, pad: 'x'.repeat(MAX_BODY) });
  expect((await expectSameAnswer('direct', 'fetch', 'POST', '/sync/connect', json('big'), [big])).status).toBe(400);
  const unsized = async (side: 'a' | 'b') => ({ ...(await json('chunked')(side)), 'Transfer-Encoding': 'chunked' });
  const halves = [big.slice(0, 3000), big.slice(3000)];
  expect((await expectSameAnswer('direct', 'fetch', 'POST', '/sync/connect', unsized, halves)).status).toBe(400);
  // A valid body in pieces, with a multi-byte character split between them.
  const body = Buffer.from(JSON.stringify({ has_local_pending_rows: false, note: 'grüße' }));
  const cut = body.indexOf(0xc3) + 1;
  const split = [body.subarray(0, cut).toString('latin1'), body.subarray(cut).toString('latin1')];
  const pieces = async (side: 'a' | 'b') => ({ ...(await json('pieces')(side)), 'Transfer-Encoding': 'chunked' });
  const sendBytes = (base: string, headers: Record<string, string>) =>
    new Promise<Raw>((resolve, reject) => {
      const req = httpRequest(`${base}/sync/connect`, { method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: {}, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.write(Buffer.from(split[0]!, 'latin1'));
      setImmediate(() => req.end(Buffer.from(split[1]!, 'latin1')));
    });
  const pa = await sendBytes(bases.direct, await pieces('a'));
  const pb = await sendBytes(bases.fetch, await pieces('b'));
  expect(pa).toEqual(pb);
  expect(pa.status).toBe(200);
  expect((await expectSameAnswer('direct', 'fetch', 'GET', '/sync/pull?after_bundle_seq=0', authed('pieces'))).status).toBe(200);
  expect((await expectSameAnswer('direct', 'fetch', 'GET', '/syncx/health', authed('h'))).status).toBe(200);

  // Behind express.json(): the body was consumed by the parser before the adapter saw it.
  const connect = JSON.stringify({ has_local_pending_rows: false });
  expect((await expectSameAnswer('expressDirect', 'expressFetch', 'POST', '/api/sync/connect', json('ex'), [connect])).status).toBe(200);
  expect((await expectSameAnswer('expressDirect', 'expressFetch', 'GET', '/api/sync/pull', authed('ex'))).status).toBe(200);

  // A host's own authenticator (it gets a fetch Request on both paths).
  expect((await expectSameAnswer('customDirect', 'customFetch', 'GET', '/sync/capabilities', none)).status).toBe(200);
  expect((await expectSameAnswer('customDirect', 'customFetch', 'GET', '/sync/capabilities', badToken)).status).toBe(401);
  expect((await expectSameAnswer('customDirect', 'customFetch', 'POST', '/sync/connect', json('cu'), [connect])).status).toBe(200);
});

it('streams watch frames and ends the stream when the client goes', async () => {
  for (const key of ['direct', 'fetch'] as const) {
    const user = `watch-${key}`;
    const headers = await headersFor(user);
    await fetch(`${bases[key]}/sync/connect`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ has_local_pending_rows: false }),
    });
    const client = new AbortController();
    const response = await fetch(`${bases[key]}/sync/watch?after_bundle_seq=0`, { headers, signal: client.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const frames = new SseReader(response.body!.getReader());
    const committed = await sync.writeAs(user, 'server:direct', (tx) =>
      tx.query(`INSERT INTO business.projects (id, name) VALUES (gen_random_uuid(), 'watched')`),
    );
    expect(await frames.nextBundle()).toMatchObject({ bundle_seq: committed.bundle.bundle_seq });
    expect(sync.bundleChangeSubscriberCount(user)).toBe(1);
    client.abort();
    // The server learns of the closed connection asynchronously; no event to await from here.
    await expect.poll(() => sync.bundleChangeSubscriberCount(user), { timeout: 5000, interval: 20 }).toBe(0);
  }
});
