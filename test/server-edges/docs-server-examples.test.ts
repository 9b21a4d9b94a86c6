/**
 * The code shown in docs/server.md runs: the node:http and express mountings serve the protocol
 * behind JWT auth on real PostgreSQL, a server-originated write becomes a bundle devices pull, and
 * the embedded-PGlite setup starts with no PostgreSQL.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/index.ts';
import { createExpressApp } from '../../server/reference/examples/express.ts';
import { startEmbeddedSyncServer } from '../../server/reference/examples/embedded-pglite.ts';
import { startNodeHttpSyncServer } from '../../server/reference/examples/node-http.ts';
import { completeTask } from '../../server/reference/examples/server-write.ts';
import { readSampleSchemaSql } from '../../server/reference/sample-schema.ts';
import { createFreshDatabase } from './fixtures/postgres-database.ts';
import type { FreshDatabase } from './fixtures/postgres-database.ts';
import { listenOnFreePort } from './fixtures/listening.ts';

const secret = 'docs-example-secret-0123456789abcdef';
let database: FreshDatabase;

beforeAll(async () => {
  database = await createFreshDatabase('docs');
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query(await readSampleSchemaSql());
  await client.end();
});
afterAll(async () => {
  await database?.drop();
});

async function headersFor(user: string): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await signDevToken(secret, user, 300)}`, 'Oversync-Source-ID': `${user}-laptop` };
}

describe('docs/server.md examples', () => {
  it('node:http: serves capabilities and pull behind JWT auth; a server write reaches pull', async () => {
    const { http, sync } = await startNodeHttpSyncServer(database.url, secret, 0);
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      const headers = await headersFor('alice');
      const capabilities = await fetch(`${base}/sync/capabilities`, { headers });
      expect((await capabilities.json()).features.bundle_change_watch).toBe(true);
      expect((await fetch(`${base}/sync/capabilities`)).status).toBe(401);

      const projectId = '77777777-7777-4777-8777-777777777777';
      const taskId = '88888888-8888-4888-8888-888888888888';
      await sync.writeAs('alice', 'server:seed', async (tx) => {
        await tx.query(`insert into business.projects (id, name) values ($1, 'Docs')`, [projectId]);
        await tx.query(`insert into business.tasks (id, project_id, title) values ($1, $2, 'Read them')`, [taskId, projectId]);
      });
      expect(await completeTask(sync, 'alice', taskId)).toBe(2);

      await fetch(`${base}/sync/connect`, { method: 'POST', headers, body: JSON.stringify({ has_local_pending_rows: false }) });
      const pulled = await (await fetch(`${base}/sync/pull?after_bundle_seq=1`, { headers })).json();
      expect(pulled.bundles[0]).toMatchObject({
        source_id: 'server:admin',
        rows: [{ table: 'tasks', op: 'UPDATE', payload: { done: true } }],
      });
    } finally {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await sync.close();
    }
  });

  it("express: sync under /api next to the app's own routes", async () => {
    const { app, sync } = await createExpressApp(database.url, secret);
    const listening = await listenOnFreePort(createServer(app));
    try {
      const response = await fetch(`${listening.baseUrl}/api/sync/capabilities`, { headers: await headersFor('bob') });
      expect(response.status).toBe(200);
      expect((await response.json()).protocol_version).toBe('v1');
      expect(await (await fetch(`${listening.baseUrl}/hello`)).json()).toEqual({ hello: 'world' });
      const outsideBase = await fetch(`${listening.baseUrl}/api/v2/sync/capabilities`, { headers: await headersFor('bob') });
      expect(outsideBase.status).toBe(404);
    } finally {
      await listening.close();
      await sync.close();
    }
  });

  it('embedded PGlite: starts with no PostgreSQL and answers over handle()', async () => {
    const sync = await startEmbeddedSyncServer(`
      create schema business;
      create table business.projects (_sync_scope_id text not null, id uuid not null, name text, unique (_sync_scope_id, id));
    `);
    try {
      const response = await sync.handle(new Request('http://embedded/sync/capabilities'), { userId: 'carol' });
      expect((await response.json()).registered_tables).toEqual(['business.projects']);
    } finally {
      await sync.close();
      await sync.database.close();
    }
  }, 90_000); // PGlite's initdb is CPU-bound: seconds alone, far more on a loaded 2-core machine
});
