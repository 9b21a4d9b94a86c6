// Operator compatibility with go-oversync retention scripts: deleting sync.bundle_log rows deletes
// their sync.bundle_rows (go-oversync: ON DELETE CASCADE). A database bootstrapped by an earlier
// version (no cascade, no dialect columns) is upgraded in place by the next start, and its
// bundles keep being served as strings-dialect bundles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHash } from '../../protocol/hashes.ts';
import { createSyncServer } from '../../server/index.ts';
import { SAMPLE_TABLES, startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
const tag = (name: string) => ({ schema: 'business', table: 'tags', key: { name }, op: 'INSERT' as const, base_row_version: 0, payload: { name, weight: '1' } });

async function rowsPerBundle(): Promise<Record<string, number>> {
  const r = await h.database.query<{ seq: string; n: number }>('SELECT bundle_seq::text AS seq, count(*)::int AS n FROM sync.bundle_rows GROUP BY bundle_seq ORDER BY bundle_seq');
  return Object.fromEntries(r.rows.map((x) => [x.seq, x.n]));
}

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'bundle_log_cascade' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('ops'), 'device');
  await dev.connect(false);
  for (let i = 1; i <= 3; i++) expect((await dev.push(i, [tag(`a${i}`), tag(`b${i}`)])).status).toBe(200);
});
afterAll(() => h?.close());

describe('bundle_log delete cascades to bundle_rows', () => {
  it('deletes exactly the rows of the deleted bundles', async () => {
    expect(await rowsPerBundle()).toEqual({ 1: 2, 2: 2, 3: 2 });
    await h.database.query('DELETE FROM sync.bundle_log WHERE bundle_seq <= 2');
    expect(await rowsPerBundle()).toEqual({ 3: 2 });
  });

  it('upgrades a database of the earlier layout in place and keeps serving its bundles', async () => {
    // The earlier layout: no trigger, no dialect columns.
    for (const sql of [
      'DROP TRIGGER bundle_log_delete_rows ON sync.bundle_log',
      'DROP FUNCTION sync.bundle_log_delete_rows()',
      'ALTER TABLE sync.bundle_log DROP COLUMN wire_dialect',
      'ALTER TABLE sync.source_state DROP COLUMN wire_dialect',
      'ALTER TABLE sync.push_sessions DROP COLUMN wire_dialect',
    ]) await h.database.query(sql);
    const upgraded = await createSyncServer({ database: h.database, tables: SAMPLE_TABLES });
    try {
      const cols = await h.database.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.columns WHERE table_schema = 'sync' AND column_name = 'wire_dialect' ORDER BY table_name`,
      );
      expect(cols.rows.map((r) => r.table_name)).toEqual(['bundle_log', 'push_sessions', 'source_state']);
      const page = await dev.committedRows(3);
      expect(page.status).toBe(200);
      expect(await bundleHash(page.body.rows)).toBe(page.body.bundle_hash);
      await h.database.query('DELETE FROM sync.bundle_log WHERE bundle_seq = 3');
      expect(await rowsPerBundle()).toEqual({});
    } finally {
      await upgraded.close();
    }
  });
});
