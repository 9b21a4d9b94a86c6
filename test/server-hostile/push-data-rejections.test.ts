// Pushed data PostgreSQL refuses at commit (a value that does not cast, a missing or null NOT NULL
// column, a reference to a row that does not exist, a parent deleted under its children) is the
// client's mistake: contracts-dialect sessions get 400 push_commit_invalid, go-oversync 1f1118f
// sessions its own 500 push_session_commit_failed; both name the row in protocol terms
// (`rejection`: schema, table, key, op, columns, reason) with no SQL, relation or constraint
// text, and nothing of the bundle is committed. The same source's next good bundle commits.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import type { RawResponse } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_data_rejections', wireDialect: 'auto' });
});
afterAll(() => h?.close());

const CONTRACTS = { canonical_request_hash: 'c'.repeat(64) };

function user(id: string, name = 'u') {
  return { schema: 'business', table: 'users', key: { id }, op: 'INSERT', base_row_version: 0, payload: { id, name } };
}
function project(id: string, ownerId: string) {
  return {
    schema: 'business',
    table: 'projects',
    key: { id },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id, owner_id: ownerId, title: 'p' },
  };
}
function task(id: string, projectId: string, extra: Record<string, unknown> = {}) {
  return {
    schema: 'business',
    table: 'tasks',
    key: { id },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id, project_id: projectId, title: 't', ...extra },
  };
}

function expectNoDatabaseText(res: RawResponse): void {
  expect(JSON.stringify(res.body)).not.toMatch(
    /SQLSTATE|violates|constraint|relation|syntax|_fkey|_pkey|_sync_scope_id|invalid input syntax|\bat \w+ \(/i,
  );
}

async function businessRows(userId: string): Promise<number> {
  const r = await h.database.query<{ n: number }>(
    `SELECT ((SELECT count(*) FROM business.users WHERE _sync_scope_id = $1) + (SELECT count(*) FROM business.projects WHERE _sync_scope_id = $1)
           + (SELECT count(*) FROM business.tasks WHERE _sync_scope_id = $1))::int AS n`,
    [userId],
  );
  return r.rows[0]!.n;
}

/** A device of a fresh user that already committed one user + project (bundle 1). */
async function seeded(name: string): Promise<{ dev: RawSyncClient; ownerId: string; projectId: string }> {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor(name), `${name}-phone`);
  await dev.connect(false);
  const ownerId = randomUUID();
  const projectId = randomUUID();
  expect((await dev.push(1, [user(ownerId), project(projectId, ownerId)], 1000, CONTRACTS)).status).toBe(200);
  return { dev, ownerId, projectId };
}

const cases: Array<{
  name: string;
  rows: (p: { ownerId: string; projectId: string; taskId: string }) => Record<string, unknown>[];
  reason: string;
  table: string;
  columns: string[];
}> = [
  {
    name: 'a timestamp that is not a date',
    rows: (p) => [task(p.taskId, p.projectId, { due_at: 'not a date' })],
    reason: 'invalid_value',
    table: 'tasks',
    columns: ['due_at'],
  },
  {
    name: 'a NOT NULL column sent as null',
    rows: (p) => [task(p.taskId, p.projectId, { title: null })],
    reason: 'missing_value',
    table: 'tasks',
    columns: ['title'],
  },
  {
    name: 'a NOT NULL column left out',
    rows: (p) => [
      {
        schema: 'business',
        table: 'tasks',
        key: { id: p.taskId },
        op: 'INSERT',
        base_row_version: 0,
        payload: { id: p.taskId, project_id: p.projectId },
      },
    ],
    reason: 'missing_value',
    table: 'tasks',
    columns: ['title'],
  },
  {
    name: 'a reference to a project that does not exist',
    rows: (p) => [task(p.taskId, randomUUID())],
    reason: 'missing_reference',
    table: 'tasks',
    columns: ['project_id'],
  },
  {
    name: 'a bad value in the middle of a long segment',
    rows: (p) =>
      Array.from({ length: 300 }, (_, i) =>
        task(i === 217 ? p.taskId : randomUUID(), p.projectId, { due_at: i === 217 ? '2024-13-45T99:00:00Z' : '2024-01-02T03:04:05Z' }),
      ),
    reason: 'value_out_of_range',
    table: 'tasks',
    columns: ['due_at'],
  },
];

for (const c of cases) {
  it(`${c.name}: 400 push_commit_invalid naming the row; nothing committed`, async () => {
    const name = `rej-${cases.indexOf(c)}`;
    const { dev, ownerId, projectId } = await seeded(name);
    const taskId = randomUUID();
    const before = await businessRows(name);
    const rows = c.rows({ ownerId, projectId, taskId });
    const res = await dev.push(2, rows, 1000, CONTRACTS);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('push_commit_invalid');
    expect(res.body.rejection).toMatchObject({ schema: 'business', table: c.table, key: { id: taskId }, op: 'INSERT', columns: c.columns });
    expect([c.reason, 'invalid_value']).toContain(res.body.rejection.reason);
    expect(res.body.message).toContain(taskId);
    expectNoDatabaseText(res);
    expect(await businessRows(name)).toBe(before);
    // The client drops the bad change; the same source_bundle_id then commits.
    expect((await dev.push(2, [task(randomUUID(), projectId)], 1000, CONTRACTS)).status).toBe(200);
  });
}

it('a child inserted under a parent the same bundle deletes: missing_reference, naming both rows', async () => {
  const { dev, ownerId } = await seeded('rej-parent');
  const projectId = randomUUID();
  const taskId = randomUUID();
  expect((await dev.push(2, [project(projectId, ownerId), task(taskId, projectId)], 1000, CONTRACTS)).status).toBe(200);
  const res = await dev.push(
    3,
    [{ schema: 'business', table: 'projects', key: { id: projectId }, op: 'DELETE', base_row_version: 2 }, task(randomUUID(), projectId)],
    1000,
    CONTRACTS,
  );
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('push_commit_invalid');
  expect(res.body.rejection).toMatchObject({
    table: 'tasks',
    reason: 'missing_reference',
    references: { table: 'projects', key: { id: projectId } },
  });
  expectNoDatabaseText(res);
});

it('go-oversync 1f1118f sessions (no canonical_request_hash) keep its answer: 500 push_session_commit_failed, with the same rejection', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('rej-go'), 'go-phone');
  await dev.connect(false);
  const taskId = randomUUID();
  const res = await dev.push(1, [task(taskId, randomUUID())]);
  expect(res.status).toBe(500);
  expect(res.body.error).toBe('push_session_commit_failed');
  expect(res.body.rejection).toMatchObject({ table: 'tasks', key: { id: taskId }, reason: 'missing_reference', columns: ['project_id'] });
  expectNoDatabaseText(res);
  expect(await businessRows('rej-go')).toBe(0);
});
