/**
 * The reference server's test-only hooks (OVERSQLITE_TEST_HOOKS=1): server-originated writes as
 * bundles, a forced retention floor that makes pull answer history_pruned, typed 400s for bad
 * input — and no hooks at all when they are not enabled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceOnPostgres } from './fixtures/reference-in-process.ts';
import type { InProcessReference } from './fixtures/reference-in-process.ts';

const projectId = '44444444-4444-4444-8444-444444444444';
let withHooks: InProcessReference;
let withoutHooks: InProcessReference;

beforeAll(async () => {
  [withHooks, withoutHooks] = await Promise.all([
    startReferenceOnPostgres('hooks', { testHooks: true }),
    startReferenceOnPostgres('nohooks'),
  ]);
});
afterAll(async () => {
  await Promise.all([withHooks?.close(), withoutHooks?.close()]);
});

async function post(ref: InProcessReference, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${ref.server.url}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function sync(
  ref: InProcessReference,
  user: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${ref.server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${await ref.tokenFor(user)}`, 'Oversync-Source-ID': `${user}-phone` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

describe('reference server test hooks', () => {
  it('applies a server write as one bundle that a client then pulls (scope auto-initialized)', async () => {
    const written = await post(withHooks, '/test/server-write', {
      user_id: 'alice',
      changes: [
        { table: 'projects', op: 'upsert', row: { id: projectId, name: 'From the server', color: 'blue' } },
        {
          table: 'business.tasks',
          op: 'upsert',
          row: { id: '55555555-5555-4555-8555-555555555555', project_id: projectId, title: 'Server task', priority: 5 },
        },
      ],
    });
    expect(written.status).toBe(200);
    expect(written.json.bundle).toMatchObject({ bundle_seq: 1, source_id: 'server:reference-test', source_bundle_id: 1, row_count: 2 });

    expect((await sync(withHooks, 'alice', 'POST', '/sync/connect', { has_local_pending_rows: false })).json.resolution).toBe(
      'remote_authoritative',
    );
    const pulled = await sync(withHooks, 'alice', 'GET', '/sync/pull?after_bundle_seq=0');
    expect(pulled.json.bundles[0].rows.map((row: { table: string; op: string }) => `${row.op} ${row.table}`)).toEqual([
      'INSERT projects',
      'INSERT tasks',
    ]);
  });

  it('updates only the named columns of an existing row, and deletes by id', async () => {
    const updated = await post(withHooks, '/test/server-write', {
      user_id: 'alice',
      source_id: 'server:editor',
      changes: [{ table: 'projects', op: 'upsert', row: { id: projectId, name: 'Renamed' } }],
    });
    expect(updated.json.bundle).toMatchObject({ bundle_seq: 2, source_id: 'server:editor', row_count: 1 });
    const pulled = await sync(withHooks, 'alice', 'GET', '/sync/pull?after_bundle_seq=1');
    expect(pulled.json.bundles[0].rows[0]).toMatchObject({ op: 'UPDATE', payload: { name: 'Renamed', color: 'blue' } });

    const deleted = await post(withHooks, '/test/server-write', {
      user_id: 'alice',
      changes: [{ table: 'projects', op: 'delete', id: projectId }],
    });
    expect(deleted.json.bundle).toMatchObject({ bundle_seq: 3, row_count: 2 }); // the task cascades
  });

  it('forces a retention floor so that pulling from behind it answers 409 history_pruned', async () => {
    const raised = await post(withHooks, '/test/retention-floor', { user_id: 'alice', retained_bundle_floor: 2 });
    expect(raised).toEqual({ status: 200, json: { user_id: 'alice', retained_bundle_floor: 2 } });
    const behind = await sync(withHooks, 'alice', 'GET', '/sync/pull?after_bundle_seq=1');
    expect(behind.status).toBe(409);
    expect(behind.json.error).toBe('history_pruned');
    expect((await sync(withHooks, 'alice', 'GET', '/sync/pull?after_bundle_seq=2')).status).toBe(200);

    const tooHigh = await post(withHooks, '/test/retention-floor', { user_id: 'alice', retained_bundle_floor: 99 });
    expect(tooHigh.status).toBe(400);
    expect(tooHigh.json.error).toBe('invalid_request');
  });

  it('answers 400 invalid_request with a reason for malformed hook input', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['not json', /JSON object/],
      [{ changes: [] }, /user_id/],
      [{ user_id: 'alice', changes: [] }, /non-empty array/],
      [{ user_id: 'alice', changes: [{ table: 'invoices', op: 'upsert', row: { id: projectId } }] }, /not a registered table/],
      [{ user_id: 'alice', changes: [{ table: 'projects', op: 'upsert', row: { name: 'no id' } }] }, /sync key "id"/],
      [{ user_id: 'alice', changes: [{ table: 'projects', op: 'merge', row: { id: projectId } }] }, /"upsert" or "delete"/],
      [
        { user_id: 'alice', changes: [{ table: 'projects', op: 'upsert', row: { id: projectId, no_such_column: 1 } }] },
        /PostgreSQL rejected/,
      ],
      [{ user_id: 'alice', changes: [{ table: 'projects', op: 'delete', id: '66666666-6666-4666-8666-666666666666' }] }, /No projects row/],
      [{ user_id: 'alice', retained_bundle_floor: -1 }, /non-negative integer/],
    ];
    for (const [body, reason] of cases) {
      const path =
        typeof body === 'object' && body !== null && 'retained_bundle_floor' in body ? '/test/retention-floor' : '/test/server-write';
      const answer = await post(withHooks, path, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.error).toBe('invalid_request');
      expect(answer.json.message).toMatch(reason);
    }
  });

  it('has no hooks unless enabled: 401 without a token, 404 with one', async () => {
    const anonymous = await post(withoutHooks, '/test/retention-floor', { user_id: 'alice', retained_bundle_floor: 0 });
    expect(anonymous.status).toBe(401);
    const signedIn = await sync(withoutHooks, 'alice', 'POST', '/test/server-write', { user_id: 'alice', changes: [] });
    expect(signedIn.status).toBe(404);
    expect(signedIn.json.error).toBe('not_found');
  });
});
