/**
 * Streaming through the node:http adapter: SSE frames reach the client one by one while the stream
 * is still open, and a client that disconnects cancels the body stream and aborts the request
 * signal so the handler can stop.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNodeHandler } from '../../server/adapters/index.ts';
import { createEchoApp } from './fixtures/echo-app.ts';
import type { EchoApp } from './fixtures/echo-app.ts';
import { listenOnFreePort } from './fixtures/listening.ts';

let app: EchoApp;
let baseUrl: string;
let close: () => Promise<void>;
const adapterErrors: unknown[] = [];

beforeAll(async () => {
  app = createEchoApp();
  const listener = toNodeHandler(app.handle, async () => ({ userId: 'alice' }), { onError: (err) => adapterErrors.push(err) });
  ({ baseUrl, close } = await listenOnFreePort(createServer(listener)));
});
afterAll(async () => {
  await close();
});

async function readFrame(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value, done } = await reader.read();
  expect(done).toBe(false);
  return new TextDecoder().decode(value);
}

describe('node:http adapter streaming', () => {
  it('flushes each SSE frame as soon as the handler produces it', async () => {
    const response = await fetch(`${baseUrl}/sync/events`);
    const session = await app.nextEventStream();
    // Headers arrive before any frame is produced.
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    session.send('event: bundle\ndata: {"bundle_seq":"1"}\n\n');
    // The stream is still open: this read only completes if the frame was flushed.
    expect(await readFrame(reader)).toBe('event: bundle\ndata: {"bundle_seq":"1"}\n\n');
    session.send(': keepalive\n\n');
    expect(await readFrame(reader)).toBe(': keepalive\n\n');
    session.end();
    expect((await reader.read()).done).toBe(true);
  });

  it('cancels the body stream and aborts the request signal when the client disconnects', async () => {
    const client = new AbortController();
    const response = await fetch(`${baseUrl}/sync/events`, { signal: client.signal });
    const session = await app.nextEventStream();
    const reader = response.body!.getReader();
    session.send('data: first\n\n');
    expect(await readFrame(reader)).toBe('data: first\n\n');
    client.abort();
    await Promise.all([session.cancelled, session.aborted]);
  });

  it('cuts the connection when a response body fails mid-stream, and reports the error', async () => {
    const response = await fetch(`${baseUrl}/broken-stream`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(adapterErrors.some((err) => err instanceof Error && err.message === 'stream broke on purpose')).toBe(true);
  });
});
