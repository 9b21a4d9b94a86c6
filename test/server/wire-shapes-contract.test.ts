// Contract fixtures `push/basic-insert.json` and `pull-snapshot/basic.json` as data: the real
// server's responses carry exactly the fixture's fields, and the fixture's snapshot byte_count
// values are what the server's byte accounting computes for the same rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotRowBytes } from '../../server/runtime/snapshot-build.ts';
import { loadContract } from '../contracts.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const push = loadContract<{ cases: Array<Record<string, any>> }>('push/basic-insert.json');
const pullSnapshot = loadContract<{ cases: Array<Record<string, any>> }>('pull-snapshot/basic.json');
const keys = (o: object) => Object.keys(o).sort();

// The fixture's `main.users(id, name)` table, on the server.
const SCHEMA = `CREATE SCHEMA main;
CREATE TABLE main.users (_sync_scope_id text NOT NULL, id text NOT NULL, name text, PRIMARY KEY (_sync_scope_id, id));`;

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'wire_shapes', schemaSql: SCHEMA, tables: [{ schema: 'main', table: 'users', syncKey: 'id' }] });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('fixture-user'), 'source-fixture');
  await dev.connect(false);
});
afterAll(() => h?.close());

describe('push/basic-insert.json', () => {
  const c = push.cases.find((x) => x.name === 'single-insert-commit')!;
  it('single-insert-commit: create, chunk, commit and committed-rows responses have the fixture shapes and values', async () => {
    const created = await dev.createPush(c.pushSessionCreateRequest.source_bundle_id, c.pushSessionCreateRequest.planned_row_count, {
      canonical_request_hash: c.pushSessionCreateRequest.canonical_request_hash,
    });
    expect(keys(created.body)).toEqual(keys(c.pushSessionCreateResponse));
    expect({ ...created.body, push_id: 'x' }).toEqual({ ...c.pushSessionCreateResponse, push_id: 'x' });
    const chunk = await dev.chunk(created.body.push_id, 0, c.pushChunkRequest.rows);
    expect(chunk.body).toEqual({ ...c.pushChunkResponse, push_id: created.body.push_id });
    const commit = await dev.commit(created.body.push_id);
    expect(keys(commit.body)).toEqual(keys(c.pushCommitResponse));
    expect({ ...commit.body, bundle_hash: 'fixture-hash' }).toEqual(c.pushCommitResponse);
    const rows = await dev.committedRows(1);
    expect({ ...rows.body, bundle_hash: 'fixture-hash' }).toEqual(c.committedBundleRowsResponse);
  });

  it('server-wins-update-conflict: the conflict envelope has the fixture shape', async () => {
    const fx = push.cases.find((x) => x.name === 'server-wins-update-conflict')!.pushConflictResponse;
    await dev.push(2, [
      {
        schema: 'main',
        table: 'users',
        key: { id: 'user-1' },
        op: 'UPDATE',
        base_row_version: 1,
        payload: { id: 'user-1', name: 'Server' },
      },
    ]);
    const r = await dev.push(3, [
      {
        schema: 'main',
        table: 'users',
        key: { id: 'user-1' },
        op: 'UPDATE',
        base_row_version: 0,
        payload: { id: 'user-1', name: 'Local' },
      },
    ]);
    expect(r.status).toBe(409);
    expect(keys(r.body)).toEqual(keys(fx));
    expect(r.body.conflict).toEqual(fx.conflict);
  });
});

describe('pull-snapshot/basic.json', () => {
  for (const c of pullSnapshot.cases.filter((x) => x.snapshotChunkResponse?.rows?.length && !x.expectedSnapshotChunkErrorContains)) {
    it(`${c.name}: byte_count ${c.snapshotChunkResponse.byte_count} equals the server's canonical row size`, () => {
      const total = c.snapshotChunkResponse.rows.reduce((n: number, row: any) => n + snapshotRowBytes(row), 0);
      expect(total).toBe(c.snapshotChunkResponse.byte_count);
      expect(total).toBe(c.snapshotSession.byte_count);
    });
  }

  it('snapshot session and chunk responses carry exactly the fixture fields', async () => {
    const fx = pullSnapshot.cases.find((x) => x.name === 'history-pruned-fallback')!;
    const s = await dev.createSnapshot();
    expect(keys(s.body)).toEqual(keys(fx.snapshotSession));
    const chunk = await dev.snapshotChunk(s.body.snapshot_id, '?after_row_ordinal=0&max_rows=19&max_bytes=4194304');
    expect(keys(chunk.body)).toEqual(keys(fx.snapshotChunkResponse));
    expect(keys(chunk.body.rows[0])).toEqual(keys(fx.snapshotChunkResponse.rows[0]));
    expect(chunk.body.rows[0]).toEqual({
      schema: 'main',
      table: 'users',
      key: { id: 'user-1' },
      row_version: 2,
      payload: { id: 'user-1', name: 'Server' },
    });
    expect(chunk.body.byte_count).toBe(s.body.byte_count);
  });

  it('pull bundles carry the fixture fields plus row_count and bundle_hash', async () => {
    const fx = pullSnapshot.cases.find((x) => x.name === 'incremental-insert-delete')!.pullResponse;
    const r = await dev.pull('?after_bundle_seq=0&max_bundles=11');
    expect(keys(r.body)).toEqual(keys(fx));
    expect(keys(r.body.bundles[0])).toEqual([...keys(fx.bundles[0]), 'bundle_hash', 'row_count'].sort());
    expect(keys(r.body.bundles[0].rows[0])).toEqual(keys(fx.bundles[0].rows[0]));
  });
});
