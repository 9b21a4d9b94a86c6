// writeAs: a host write becomes one captured bundle of the writer source (cascades included),
// auto-initializes an uninitialized scope, and is visible to devices via pull.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundleHash } from '../../protocol/hashes.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'server_writes' });
});
afterAll(() => h?.close());

const U = 'aaaaaaaa-0000-4000-8000-000000000001';
const P = 'aaaaaaaa-0000-4000-8000-000000000002';
const T = 'aaaaaaaa-0000-4000-8000-000000000003';

it('captures a multi-table host transaction as one bundle and auto-initializes the scope', async () => {
  const { result, bundle } = await h.server.writeAs('rita', 'server:admin', async (tx) => {
    await tx.query(`INSERT INTO business.users (id, name, created_at) VALUES ($1, 'Rita', '2026-03-24 10:42:11-08')`, [U]);
    await tx.query(`INSERT INTO business.projects (id, owner_id, title, budget) VALUES ($1, $2, 'Launch', 1234.5)`, [P, U]);
    await tx.query(
      `INSERT INTO business.tasks (id, project_id, title, priority, estimate_hours, attachment, due_at) VALUES ($1, $2, 'Ship', 9007199254740993, 1e15, '\\x00ff10', '2026-05-01T00:00:00Z')`,
      [T, P],
    );
    await tx.query(`UPDATE business.tasks SET done = true WHERE _sync_scope_id = 'rita' AND id = $1`, [T]);
    return 'done';
  });
  expect(result).toBe('done');
  expect(bundle).toMatchObject({ bundle_seq: 1, source_id: 'server:admin', source_bundle_id: 1, row_count: 3 });

  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('rita'), 'phone');
  expect((await dev.connect(true)).body).toEqual({ resolution: 'remote_authoritative' });
  const pulled = await dev.pull();
  const rows = pulled.body.bundles[0].rows;
  expect(rows.map((r: { table: string; op: string }) => `${r.table}:${r.op}`)).toEqual(['users:INSERT', 'projects:INSERT', 'tasks:INSERT']);
  expect(rows[2].payload).toEqual({
    id: T,
    project_id: P,
    title: 'Ship',
    done: true,
    priority: '9007199254740993',
    estimate_hours: '1000000000000000',
    attachment: 'AP8Q',
    due_at: '2026-05-01T00:00:00+00:00',
  });
  expect(rows[1].payload.budget).toBe('1234.50');
  expect(rows[0].payload.created_at).toBe('2026-03-24T18:42:11+00:00');
  expect(await bundleHash(rows)).toBe(bundle.bundle_hash);

  // A cascade delete from the host is one bundle with both effects; the writer source advances.
  const del = await h.server.writeAs('rita', 'server:admin', (tx) =>
    tx.query(`DELETE FROM business.projects WHERE _sync_scope_id = 'rita' AND id = $1`, [P]),
  );
  expect(del.bundle).toMatchObject({ bundle_seq: 2, source_bundle_id: 2, row_count: 2 });
});

it('refuses a write that changes nothing, and rolls back the host work on failure', async () => {
  await expect(h.server.writeAs('rita', 'server:admin', async () => 1)).rejects.toMatchObject({ code: 'push_commit_invalid' });
  await expect(
    h.server.writeAs('rita', 'server:admin', async (tx) => {
      await tx.query(`INSERT INTO business.tags (name) VALUES ('rolled-back')`);
      throw new Error('host failure');
    }),
  ).rejects.toThrow('host failure');
  const r = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM business.tags`);
  expect(r.rows[0]!.n).toBe(0);
  const seq = await h.database.query<{ next: string }>(`SELECT next_bundle_seq::text AS next FROM sync.user_state WHERE user_id = 'rita'`);
  expect(seq.rows[0]!.next).toBe('3');
});

it('refuses while another source holds the initialization lease', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('sam'), 'phone');
  expect((await dev.connect(true)).body.resolution).toBe('initialize_local');
  await expect(
    h.server.writeAs('sam', 'server:admin', (tx) => tx.query(`INSERT INTO business.tags (name) VALUES ('x')`)),
  ).rejects.toMatchObject({ code: 'scope_initializing' });
});
