/**
 * The reference server started in-process on a fresh real PostgreSQL database (the DATABASE_URL
 * path): the sample schema is created with the oversync envelope, and a client bundle that inserts
 * a task before its project commits (deferred two-column FKs), is pulled back, stays invisible to
 * another user, and a cascading delete is captured as one bundle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { pushRequestHash } from '../../protocol/hashes.ts';
import type { PushRow } from '../../protocol/wire.ts';
import { startReferenceServer } from '../../server/reference/reference-server.ts';
import type { ReferenceServer } from '../../server/reference/reference-server.ts';
import { createFreshDatabase } from './fixtures/postgres-database.ts';
import type { FreshDatabase } from './fixtures/postgres-database.ts';

const secret = 'reference-postgres-test-secret-0123456789';
const projectId = '11111111-1111-4111-8111-111111111111';
const taskId = '22222222-2222-4222-8222-222222222222';
const commentId = '33333333-3333-4333-8333-333333333333';
let database: FreshDatabase;
let server: ReferenceServer;
const logLines: string[] = [];

beforeAll(async () => {
  database = await createFreshDatabase('refpg');
  server = await startReferenceServer({
    port: 0,
    host: '127.0.0.1',
    databaseUrl: database.url,
    jwtSecret: secret,
    log: (line) => logLines.push(line),
  });
});
afterAll(async () => {
  await server?.close();
  await database?.drop();
});

async function tokenFor(user: string): Promise<string> {
  const response = await fetch(`${server.url}/dummy-signin`, { method: 'POST', body: JSON.stringify({ user, password: 'pw' }) });
  return ((await response.json()) as { token: string }).token;
}

async function call(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${await tokenFor(user)}`,
      'Oversync-Source-ID': `${user}-device`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

describe('reference server on real PostgreSQL', () => {
  it('says it runs on PostgreSQL and does not warn about the secret it was given', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(logLines.some((line) => line.includes('(PostgreSQL'))).toBe(true);
    expect(logLines.some((line) => line.includes('WARNING'))).toBe(false);
  });

  it('creates the business schema with scope-leading unique keys and deferrable two-column FKs', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; def: string; deferrable: boolean; deferred: boolean }>(
        `select conname name, pg_get_constraintdef(oid) def, condeferrable deferrable, condeferred deferred
           from pg_constraint where connamespace = 'business'::regnamespace and contype in ('u', 'f') order by conname`,
      );
      expect(rows).toEqual([
        { name: 'comments_scope_id_key', def: 'UNIQUE (_sync_scope_id, id)', deferrable: false, deferred: false },
        {
          name: 'comments_task_fk',
          def: 'FOREIGN KEY (_sync_scope_id, task_id) REFERENCES business.tasks(_sync_scope_id, id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED',
          deferrable: true,
          deferred: true,
        },
        { name: 'projects_scope_id_key', def: 'UNIQUE (_sync_scope_id, id)', deferrable: false, deferred: false },
        {
          name: 'tasks_project_fk',
          def: 'FOREIGN KEY (_sync_scope_id, project_id) REFERENCES business.projects(_sync_scope_id, id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED',
          deferrable: true,
          deferred: true,
        },
        { name: 'tasks_scope_id_key', def: 'UNIQUE (_sync_scope_id, id)', deferrable: false, deferred: false },
      ]);
    } finally {
      await client.end();
    }
  });

  it('commits a pushed bundle whose child row precedes its parent, and pulls it back', async () => {
    expect((await call('alice', 'POST', '/sync/connect', { has_local_pending_rows: false })).json.resolution).toBe('initialize_empty');
    const rows: PushRow[] = [
      {
        schema: 'business',
        table: 'tasks',
        key: { id: taskId },
        op: 'INSERT',
        base_row_version: 0,
        payload: {
          id: taskId,
          project_id: projectId,
          title: 'Write docs',
          notes: null,
          done: '0',
          priority: '2',
          position: '1.5',
          due_at: null,
          updated_at: '2026-11-25T06:00:00Z',
        },
      },
      {
        schema: 'business',
        table: 'projects',
        key: { id: projectId },
        op: 'INSERT',
        base_row_version: 0,
        payload: {
          id: projectId,
          name: 'Launch',
          color: '#ff8800',
          created_at: '2026-11-25T06:00:00Z',
          updated_at: '2026-11-25T06:00:00Z',
        },
      },
      {
        schema: 'business',
        table: 'comments',
        key: { id: commentId },
        op: 'INSERT',
        base_row_version: 0,
        payload: { id: commentId, task_id: taskId, body: 'first!', created_at: '2026-11-25T06:00:00Z' },
      },
    ];
    // With canonical_request_hash: a contracts-dialect client (numeric strings both ways).
    const created = await call('alice', 'POST', '/sync/push-sessions', {
      source_bundle_id: 1,
      planned_row_count: 3,
      canonical_request_hash: await pushRequestHash(rows),
    });
    expect(created.status).toBe(200);
    const pushId = created.json.push_id as string;
    const chunk = await call('alice', 'POST', `/sync/push-sessions/${pushId}/chunks`, { start_row_ordinal: 0, rows });
    expect(chunk.json).toEqual({ push_id: pushId, next_expected_row_ordinal: 3 });
    const committed = await call('alice', 'POST', `/sync/push-sessions/${pushId}/commit`);
    expect(committed.status).toBe(200);
    expect(committed.json).toMatchObject({ bundle_seq: 1, source_id: 'alice-device', source_bundle_id: 1, row_count: 3 });

    const pulled = await call('alice', 'GET', '/sync/pull?after_bundle_seq=0');
    expect(pulled.json.stable_bundle_seq).toBe(1);
    const task = pulled.json.bundles[0].rows.find((row: { table: string }) => row.table === 'tasks');
    expect(task.payload).toMatchObject({ title: 'Write docs', done: false, priority: '2', position: '1.5' });
  });

  it("keeps one user out of another user's rows", async () => {
    expect((await call('bob', 'POST', '/sync/connect', { has_local_pending_rows: false })).json.resolution).toBe('initialize_empty');
    const pulled = await call('bob', 'GET', '/sync/pull?after_bundle_seq=0');
    expect(pulled.status).toBe(200);
    expect(pulled.json.bundles).toEqual([]);
  });

  it('rejects a write to a registered table made outside the sync server', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await expect(client.query(`update business.projects set name = 'sneaky' where id = $1`, [projectId])).rejects.toThrow();
      const { rows } = await client.query<{ name: string }>('select name from business.projects where id = $1', [projectId]);
      expect(rows).toEqual([{ name: 'Launch' }]);
    } finally {
      await client.end();
    }
  });

  it('captures a cascading server-originated delete of a project as one bundle', async () => {
    const { bundle } = await server.sync.writeAs('alice', 'server:admin', async (tx) => {
      await tx.query('delete from business.projects where _sync_scope_id = $1 and id = $2', ['alice', projectId]);
    });
    expect(bundle).toMatchObject({ bundle_seq: 2, source_id: 'server:admin', source_bundle_id: 1, row_count: 3 });
    const pulled = await call('alice', 'GET', '/sync/pull?after_bundle_seq=1');
    const ops = pulled.json.bundles[0].rows.map((row: { table: string; op: string }) => `${row.op} ${row.table}`).sort();
    expect(ops).toEqual(['DELETE comments', 'DELETE projects', 'DELETE tasks']);
  });
});
