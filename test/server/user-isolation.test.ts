// One user can never read or write another user's rows: bundles, pulls, snapshots, committed
// rows and sessions are per user, even with identical keys and source ids.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'user_isolation' });
});
afterAll(() => h?.close());

const tag = (name: string, color: string, op = 'INSERT', base = 0) => ({
  schema: 'business',
  table: 'tags',
  key: { name },
  op,
  base_row_version: base,
  payload: { name, color },
});

it('keeps two users with the same key and source fully apart', async () => {
  const alice = new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'shared-device');
  const bob = new RawSyncClient(h.baseUrl, h.tokenFor('bob'), 'shared-device');
  await alice.connect(false);
  await bob.connect(false);
  expect((await alice.push(1, [tag('same', 'alice-red')])).body.bundle_seq).toBe(1);
  // Bob's first bundle is his own seq 1, and his INSERT of the same key does not conflict.
  expect((await bob.push(1, [tag('same', 'bob-blue')])).body.bundle_seq).toBe(1);
  // Bob cannot update Alice's row: from his scope it is his own row at version 1.
  expect((await bob.push(2, [tag('same', 'bob-green', 'UPDATE', 1)])).body.bundle_seq).toBe(2);

  const ap = await alice.pull();
  expect(ap.body.stable_bundle_seq).toBe(1);
  expect(ap.body.bundles[0].rows[0].payload.color).toBe('alice-red');
  const bs = await bob.createSnapshot();
  const chunk = await bob.snapshotChunk(bs.body.snapshot_id);
  expect(chunk.body.rows.map((r: { payload: { color: string } }) => r.payload.color)).toEqual(['bob-green']);
  expect((await alice.snapshotChunk(bs.body.snapshot_id)).status).toBe(403);
  expect((await alice.committedRows(2)).status).toBe(404);
  const rows = await h.database.query<{ scope: string; color: string }>(
    `SELECT _sync_scope_id AS scope, color FROM business.tags ORDER BY 1`,
  );
  expect(rows.rows).toEqual([
    { scope: 'alice', color: 'alice-red' },
    { scope: 'bob', color: 'bob-green' },
  ]);
});

it('rejects writes outside a sync context and cross-scope server writes', async () => {
  await expect(h.database.query(`INSERT INTO business.tags (_sync_scope_id, name) VALUES ('alice', 'sneaky')`)).rejects.toThrow(
    /outside a sync bundle context/,
  );
  await expect(h.database.query(`DELETE FROM business.tags`)).rejects.toThrow(/outside a sync bundle context/);
  await expect(h.database.query(`TRUNCATE business.tags`)).rejects.toThrow(/TRUNCATE/);
  await expect(
    h.server.writeAs('alice', 'admin', (tx) => tx.query(`UPDATE business.tags SET color = 'hijacked' WHERE name = 'same'`)),
  ).rejects.toThrow(/outside the bundle user's scope/);
  const colors = await h.database.query<{ color: string }>(`SELECT color FROM business.tags ORDER BY color`);
  expect(colors.rows.map((r) => r.color)).toEqual(['alice-red', 'bob-green']);
  const status = await (await fetch(`${h.baseUrl}/syncx/status`)).json();
  expect(status.rejected_registered_write_count).toBeGreaterThanOrEqual(3);
});
