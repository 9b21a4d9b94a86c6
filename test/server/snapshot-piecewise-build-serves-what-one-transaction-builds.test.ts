// A snapshot built in pieces after its create was answered (server `snapshotBuildPieceRows`)
// serves exactly what the one-transaction build serves: the same rows in the same ordinals, the
// same chunk texts and byte counts (rows rendered by SQL and by Node, pieces spanning and
// splitting tables), and its create answers without byte_count, then records it when done.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncServer } from '../../server/index.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';
import { PIECE_ROWS, TOTAL, eventually, secondInstance, seedUser } from './support/piecewise-snapshot.ts';

let h: StartedSyncServer;
let oneTransaction: SyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'snapshot_piecewise_same', limits: { snapshotBuildPieceRows: PIECE_ROWS } });
  oneTransaction = await secondInstance(h, { snapshotBuildPieceRows: 0 });
});
afterAll(async () => {
  await oneTransaction?.close();
  await h?.close();
});

async function call(server: SyncServer, method: string, path: string): Promise<{ status: number; text: string }> {
  const res = await server.handle(new Request(`http://x${path}`, { method, headers: { 'Oversync-Source-ID': 'device-1' } }), {
    userId: 'piecewise',
  });
  return { status: res.status, text: await res.text() };
}

it.skipIf(TEST_DB_KIND !== 'postgres')('serves the same chunks as the one-transaction build', async () => {
  await seedUser(h, 'piecewise');
  const piecewise = await call(h.server, 'POST', '/sync/snapshot-sessions');
  const whole = await call(oneTransaction, 'POST', '/sync/snapshot-sessions');
  expect(piecewise.status).toBe(200);
  expect(whole.status).toBe(200);
  const p = JSON.parse(piecewise.text) as { snapshot_id: string; row_count: number; byte_count?: number; snapshot_bundle_seq: number };
  const w = JSON.parse(whole.text) as { snapshot_id: string; row_count: number; byte_count: number; snapshot_bundle_seq: number };
  expect(p.row_count).toBe(TOTAL);
  expect(w.row_count).toBe(TOTAL);
  expect(p.snapshot_bundle_seq).toBe(w.snapshot_bundle_seq);
  expect(p).not.toHaveProperty('byte_count');
  // Chunk sizes that cut across the pieces (100 projects, then 50 projects, 40 tags, 20 tasks, 30 users).
  for (const maxRows of [7, 64, 5000]) {
    for (let after = 0; ;) {
      const a = await call(h.server, 'GET', `/sync/snapshot-sessions/${p.snapshot_id}?after_row_ordinal=${after}&max_rows=${maxRows}`);
      const b = await call(
        oneTransaction,
        'GET',
        `/sync/snapshot-sessions/${w.snapshot_id}?after_row_ordinal=${after}&max_rows=${maxRows}`,
      );
      expect(a.status).toBe(200);
      expect(a.text.replaceAll(p.snapshot_id, 'S')).toBe(b.text.replaceAll(w.snapshot_id, 'S'));
      const chunk = JSON.parse(a.text) as { next_row_ordinal: number; has_more: boolean };
      after = chunk.next_row_ordinal;
      if (!chunk.has_more) break;
    }
  }
  await eventually(async () => {
    const r = await h.database.query<{ b: string }>('SELECT byte_count::text AS b FROM sync.snapshot_sessions WHERE snapshot_id = $1', [
      p.snapshot_id,
    ]);
    return Number(r.rows[0]!.b) === w.byte_count;
  });
});
