/**
 * The Hono example (server/reference/examples/hono.ts, served by @hono/node-server): protocol
 * requests and the app's own route answer, SSE watch frames flow through Hono, a client
 * disconnect ends the stream, and closing leaves no LISTEN connection.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHonoApp } from '../../server/reference/examples/hono.ts';
import { createFreshDatabase } from './fixtures/postgres-database.ts';
import type { FreshDatabase } from './fixtures/postgres-database.ts';
import { checkFrameworkExample, listenCount, loadSampleSchema } from './fixtures/framework-watch-check.ts';

const secret = 'hono-example-secret-0123456789abcdef';
let database: FreshDatabase;

beforeAll(async () => {
  database = await createFreshDatabase('hono');
  await loadSampleSchema(database.url);
});
afterAll(async () => {
  await database?.drop();
});

it('serves sync and watch through Hono; disconnects end streams; no LISTEN left', async () => {
  const { app, sync } = await createHonoApp(database.url, secret);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  try {
    const { port } = server.address() as AddressInfo;
    await checkFrameworkExample(`http://127.0.0.1:${port}`, sync, secret, 'hana');
    expect(await listenCount(database.url)).toBe(1);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await sync.close();
  }
  expect(await listenCount(database.url)).toBe(0);
});
