// Operator compatibility with go-oversync retention scripts: deleting sync.bundle_log rows deletes
// their sync.bundle_rows (go-oversync: ON DELETE CASCADE).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
const tag = (name: string) => ({
  schema: 'business',
  table: 'tags',
  key: { name },
  op: 'INSERT' as const,
  base_row_version: 0,
  payload: { name, weight: '1' },
});

async function rowsPerBundle(): Promise<Record<string, number>> {
  const r = await h.database.query<{ seq: string; n: number }>(
    'SELECT bundle_seq::text AS seq, count(*)::int AS n FROM sync.bundle_rows GROUP BY bundle_seq ORDER BY bundle_seq',
  );
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
});
