/**
 * The Fastify example (server/reference/examples/fastify.ts): protocol requests (bodies left
 * unparsed for the handler) and the app's own route answer, SSE watch frames flow through the
 * hijacked reply, a client disconnect ends the stream, and closing leaves no LISTEN connection.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFastifyApp } from '../../server/reference/examples/fastify.ts';
import { createFreshDatabase } from './fixtures/postgres-database.ts';
import type { FreshDatabase } from './fixtures/postgres-database.ts';
import { checkFrameworkExample, listenCount, loadSampleSchema } from './fixtures/framework-watch-check.ts';

const secret = 'fastify-example-secret-0123456789abcdef';
let database: FreshDatabase;

beforeAll(async () => {
  database = await createFreshDatabase('fastify');
  await loadSampleSchema(database.url);
});
afterAll(async () => {
  await database?.drop();
});

it('serves sync and watch through Fastify; disconnects end streams; no LISTEN left', async () => {
  const { app, sync } = await createFastifyApp(database.url, secret);
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    await checkFrameworkExample(baseUrl, sync, secret, 'fiona');
    expect(await listenCount(database.url)).toBe(1);
  } finally {
    // Hijacked replies are not Fastify's to end: close the server's connections with it.
    app.server.closeAllConnections();
    await app.close();
    await sync.close();
  }
  expect(await listenCount(database.url)).toBe(0);
});
