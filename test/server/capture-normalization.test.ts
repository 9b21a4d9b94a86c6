// Capture normalizes per (table, key) within one bundle: INSERT+UPDATE → INSERT(last image),
// INSERT+DELETE → nothing, DELETE+INSERT → UPDATE, UPDATE+DELETE → DELETE, and a key change is
// DELETE(old) + INSERT(new). Row versions of every touched key become the bundle's seq.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'capture_normalization' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('nina'), 'dev');
  await dev.connect(false);
  await h.server.writeAs('nina', 'server:seed', async (tx) => {
    await tx.query(`INSERT INTO business.tags (name, color) VALUES ('keep', 'k'), ('drop', 'd'), ('swap', 's'), ('old-key', 'o')`);
  });
});
afterAll(() => h?.close());

it('normalizes a multi-statement host transaction into one row per key', async () => {
  const { bundle } = await h.server.writeAs('nina', 'server:edit', async (tx) => {
    await tx.query(`INSERT INTO business.tags (name, color) VALUES ('fresh', 'v1')`);
    await tx.query(`UPDATE business.tags SET color = 'v2' WHERE _sync_scope_id = 'nina' AND name = 'fresh'`);
    await tx.query(`INSERT INTO business.tags (name) VALUES ('ghost')`);
    await tx.query(`DELETE FROM business.tags WHERE _sync_scope_id = 'nina' AND name = 'ghost'`);
    await tx.query(`DELETE FROM business.tags WHERE _sync_scope_id = 'nina' AND name = 'swap'`);
    await tx.query(`INSERT INTO business.tags (name, color) VALUES ('swap', 'reborn')`);
    await tx.query(`UPDATE business.tags SET color = 'gone-soon' WHERE _sync_scope_id = 'nina' AND name = 'drop'`);
    await tx.query(`DELETE FROM business.tags WHERE _sync_scope_id = 'nina' AND name = 'drop'`);
    await tx.query(`UPDATE business.tags SET name = 'new-key' WHERE _sync_scope_id = 'nina' AND name = 'old-key'`);
  });
  const rows = (await dev.committedRows(bundle.bundle_seq)).body.rows as Array<{
    key: { name: string };
    op: string;
    payload?: { color: string | null };
    row_version: number;
  }>;
  const summary = Object.fromEntries(rows.map((r) => [r.key.name, `${r.op}${r.payload ? `:${r.payload.color}` : ''}`]));
  expect(summary).toEqual({
    fresh: 'INSERT:v2',
    swap: 'UPDATE:reborn',
    drop: 'DELETE',
    'old-key': 'DELETE',
    'new-key': 'INSERT:o',
  });
  expect(rows.every((r) => r.row_version === bundle.bundle_seq)).toBe(true);
  expect(bundle.row_count).toBe(5);
  const state = await h.database.query<{ key_text: string; deleted: boolean; bundle_seq: string }>(
    `SELECT key_text, deleted, bundle_seq::text AS bundle_seq FROM sync.row_state ORDER BY key_text`,
  );
  expect(state.rows).toEqual([
    { key_text: 'drop', deleted: true, bundle_seq: '2' },
    { key_text: 'fresh', deleted: false, bundle_seq: '2' },
    { key_text: 'keep', deleted: false, bundle_seq: '1' },
    { key_text: 'new-key', deleted: false, bundle_seq: '2' },
    { key_text: 'old-key', deleted: true, bundle_seq: '2' },
    { key_text: 'swap', deleted: false, bundle_seq: '2' },
  ]);
});
