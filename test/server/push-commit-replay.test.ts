// A device connects, pushes a chunked bundle, commits, and replays the committed rows; the
// bundle hash recomputed from the fetched rows matches, and pull returns the same bundle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHash } from '../../protocol/hashes.ts';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
const USER = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_commit' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'device-a');
});
afterAll(() => h?.close());

describe('push session → commit → committed rows → pull', () => {
  it('initializes the scope empty, then commits a two-table bundle with server-side normalization', async () => {
    expect((await dev.connect(false)).body).toEqual({ resolution: 'initialize_empty' });
    const rows: PushRow[] = [
      {
        schema: 'business',
        table: 'users',
        key: { id: USER },
        op: 'INSERT',
        base_row_version: 0,
        payload: { id: USER, name: 'Ada', email: null, created_at: '2026-03-24T10:42:11-08:00' },
      },
      {
        schema: 'business',
        table: 'projects',
        key: { id: PROJECT },
        op: 'INSERT',
        base_row_version: 0,
        payload: { id: PROJECT, owner_id: USER, title: 'P', budget: '12.3', archived: '1' },
      },
    ];
    const created = await dev.createPush(1, 2, { canonical_request_hash: 'a'.repeat(64) });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      status: 'staging',
      planned_row_count: 2,
      next_expected_row_ordinal: 0,
      canonical_request_hash: 'a'.repeat(64),
    });
    const c1 = await dev.chunk(created.body.push_id, 0, rows.slice(0, 1));
    expect(c1.body).toEqual({ push_id: created.body.push_id, next_expected_row_ordinal: 1 });
    const c2 = await dev.chunk(created.body.push_id, 1, rows.slice(1));
    expect(c2.body.next_expected_row_ordinal).toBe(2);
    const committed = await dev.commit(created.body.push_id);
    expect(committed.status).toBe(200);
    expect(committed.body).toMatchObject({
      bundle_seq: 1,
      source_id: 'device-a',
      source_bundle_id: 1,
      row_count: 2,
      canonical_request_hash: 'a'.repeat(64),
    });
    expect(committed.body.bundle_hash).toMatch(/^[0-9a-f]{64}$/);

    const page = await dev.committedRows(1);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({
      bundle_seq: 1,
      row_count: 2,
      bundle_hash: committed.body.bundle_hash,
      next_row_ordinal: 1,
      has_more: false,
    });
    const [u, p] = page.body.rows;
    expect(u).toEqual({
      schema: 'business',
      table: 'users',
      key: { id: USER },
      op: 'INSERT',
      row_version: 1,
      payload: { id: USER, name: 'Ada', email: null, created_at: '2026-03-24T18:42:11+00:00' },
    });
    expect(p.payload).toEqual({ id: PROJECT, owner_id: USER, title: 'P', budget: '12.30', archived: true });
    expect(await bundleHash(page.body.rows)).toBe(committed.body.bundle_hash);

    const pulled = await dev.pull('?after_bundle_seq=0');
    expect(pulled.body.stable_bundle_seq).toBe(1);
    expect(pulled.body.has_more).toBe(false);
    expect(pulled.body.bundles).toHaveLength(1);
    expect(pulled.body.bundles[0]).toMatchObject({
      bundle_seq: 1,
      source_id: 'device-a',
      source_bundle_id: 1,
      row_count: 2,
      bundle_hash: committed.body.bundle_hash,
    });
    expect(pulled.body.bundles[0].rows).toEqual(page.body.rows);
  });

  it('pages committed rows with 0-based "last returned" ordinals', async () => {
    const first = await dev.committedRows(1, '?max_rows=1');
    expect(first.body.rows).toHaveLength(1);
    expect(first.body).toMatchObject({ next_row_ordinal: 0, has_more: true });
    const second = await dev.committedRows(1, '?max_rows=1&after_row_ordinal=0');
    expect(second.body).toMatchObject({ next_row_ordinal: 1, has_more: false });
    expect(second.body.rows[0].table).toBe('projects');
    const empty = await dev.committedRows(1, '?after_row_ordinal=1');
    expect(empty.body).toMatchObject({ rows: [], next_row_ordinal: 1, has_more: false });
  });

  it('an UPDATE then a cascading DELETE become bundles 2 and 3 with gapless row versions', async () => {
    const upd = await dev.push(2, [
      {
        schema: 'business',
        table: 'users',
        key: { id: USER },
        op: 'UPDATE',
        base_row_version: 1,
        payload: { id: USER, name: 'Ada L', email: 'ada@example.com', created_at: '2026-03-24T18:42:11Z' },
      },
    ]);
    expect(upd.body).toMatchObject({ bundle_seq: 2, source_bundle_id: 2, row_count: 1 });
    const del = await dev.push(3, [{ schema: 'business', table: 'users', key: { id: USER }, op: 'DELETE', base_row_version: 2 }]);
    expect(del.status).toBe(200);
    // The FK cascade deleted the project too: captured in the same bundle.
    expect(del.body).toMatchObject({ bundle_seq: 3, row_count: 2 });
    const rows = (await dev.committedRows(3)).body.rows;
    expect(rows.map((r: { table: string; op: string }) => `${r.table}:${r.op}`).sort()).toEqual(['projects:DELETE', 'users:DELETE']);
    expect(rows.every((r: { payload?: unknown; row_version: number }) => r.payload === undefined && r.row_version === 3)).toBe(true);
    const pulled = await dev.pull('?after_bundle_seq=1&max_bundles=1');
    expect(pulled.body).toMatchObject({ stable_bundle_seq: 3, has_more: true });
    expect(pulled.body.bundles.map((b: { bundle_seq: number }) => b.bundle_seq)).toEqual([2]);
    const next = await dev.pull('?after_bundle_seq=2&target_bundle_seq=3');
    expect(next.body.bundles.map((b: { bundle_seq: number }) => b.bundle_seq)).toEqual([3]);
    expect(next.body.has_more).toBe(false);
  });
});
