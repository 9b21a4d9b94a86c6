/**
 * Server-sent events through the express middleware: frames arrive one by one while the stream is
 * open, and a client disconnect reaches the handler as a cancelled stream and an aborted signal.
 */
import { createServer } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressMiddleware } from '../../server/adapters/index.ts';
import { createEchoApp } from './fixtures/echo-app.ts';
import type { EchoApp } from './fixtures/echo-app.ts';
import { listenOnFreePort } from './fixtures/listening.ts';

let echo: EchoApp;
let baseUrl: string;
let close: () => Promise<void>;

beforeAll(async () => {
  echo = createEchoApp();
  const app = express();
  app.use(
    '/api',
    expressMiddleware(echo.handle, async () => ({ userId: 'alice' })),
  );
  ({ baseUrl, close } = await listenOnFreePort(createServer(app)));
});
afterAll(async () => {
  await close();
});

describe('express adapter streaming', () => {
  it('flushes each SSE frame and notices the client leaving', async () => {
    const client = new AbortController();
    const response = await fetch(`${baseUrl}/api/sync/events`, { signal: client.signal });
    const session = await echo.nextEventStream();
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    session.send('data: one\n\n');
    expect(decoder.decode((await reader.read()).value)).toBe('data: one\n\n');
    session.send('data: two\n\n');
    expect(decoder.decode((await reader.read()).value)).toBe('data: two\n\n');
    client.abort();
    await Promise.all([session.cancelled, session.aborted]);
  });
});
