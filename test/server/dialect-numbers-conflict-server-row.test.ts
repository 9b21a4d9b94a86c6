// A push conflict answered to a go-oversync 1f1118f session carries the live server row in the
// numbers dialect (the Go client's resolvers read it into SQLite): numeric values as JSON numbers
// where float64 holds them exactly, an int8 beyond 2^53 as its exact string rather than rounded.
// A contracts session gets the strings form as before.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pushRequestHash } from '../../protocol/hashes.ts';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let go: RawSyncClient;
const USER = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';
const TASK = '33333333-3333-4333-8333-333333333333';

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'dialect_conflict_row', wireDialect: 'auto' });
  go = new RawSyncClient(h.baseUrl, h.tokenFor('gopher'), 'go-device');
  await go.connect(false);
  const seeded = await go.push(1, [
    {
      schema: 'business',
      table: 'users',
      key: { id: USER },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: USER, name: 'U', created_at: '2026-01-01T00:00:00Z' },
    },
    {
      schema: 'business',
      table: 'projects',
      key: { id: PROJECT },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: PROJECT, owner_id: USER, title: 'P', budget: '12.30' },
    },
    {
      schema: 'business',
      table: 'tasks',
      key: { id: TASK },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: TASK, project_id: PROJECT, title: 'T', priority: '9007199254740993', estimate_hours: '0.25' },
    },
  ]);
  expect(seeded.status).toBe(200);
});
afterAll(() => h?.close());

const staleUpdate = (title: string): PushRow[] => [
  {
    schema: 'business',
    table: 'projects',
    key: { id: PROJECT },
    op: 'UPDATE',
    base_row_version: 0,
    payload: { id: PROJECT, owner_id: USER, title, budget: '1' },
  },
  {
    schema: 'business',
    table: 'tasks',
    key: { id: TASK },
    op: 'UPDATE',
    base_row_version: 0,
    payload: { id: TASK, project_id: PROJECT, title, priority: '1' },
  },
];

it('numbers session: server_row with numbers, exact where float64 is not', async () => {
  const projectConflict = await go.push(2, staleUpdate('stale').slice(0, 1));
  expect(projectConflict.status).toBe(409);
  expect(projectConflict.body.error).toBe('push_conflict');
  expect(projectConflict.body.conflict.server_row).toMatchObject({ budget: 12.3, archived: false });
  const taskConflict = await go.push(2, staleUpdate('stale').slice(1));
  expect(taskConflict.status).toBe(409);
  expect(taskConflict.body.conflict.server_row).toMatchObject({ priority: '9007199254740993', estimate_hours: 0.25, done: false });
});

it('contracts session: server_row with strings', async () => {
  const rows = staleUpdate('stale');
  const conflict = await go.withSource('ts-device').push(1, rows, 1000, { canonical_request_hash: await pushRequestHash(rows) });
  expect(conflict.status).toBe(409);
  expect(conflict.body.conflict.server_row).toMatchObject({ budget: '12.30' });
});
