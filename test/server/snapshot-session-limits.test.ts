// Snapshot session limits: max_bytes_per_snapshot_row (rows sized in SQL and rows rendered in
// Node), max_bytes_per_snapshot_session and max_rows_per_snapshot_session fail the build exactly
// above the limit and pass at it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const SCHEMA = `
CREATE SCHEMA business;
CREATE TABLE business.items (_sync_scope_id text NOT NULL, id text NOT NULL, body text, PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE business.docs (_sync_scope_id text NOT NULL, id text NOT NULL, body jsonb, PRIMARY KEY (_sync_scope_id, id));
`;
const TABLES = [
  { schema: 'business', table: 'items', syncKey: 'id' },
  { schema: 'business', table: 'docs', syncKey: 'id' },
];

let base: StartedSyncServer;
let sizes: { rows: number; bytes: number; itemRow: number; docRow: number };
beforeAll(async () => {
  base = await startSyncServer({ purpose: 'snapshot_limits', schemaSql: SCHEMA, tables: TABLES });
  await base.server.writeAs('pia', 'server:seed', async (tx) => {
    await tx.query(`INSERT INTO business.items (id, body) SELECT 'i' || g, repeat('x', 100) FROM generate_series(1, 3) g`);
    await tx.query(`INSERT INTO business.docs (id, body) VALUES ('d1', '{"big": "${'y'.repeat(300)}"}')`);
  });
  const dev = new RawSyncClient(base.baseUrl, base.tokenFor('pia'), 'device-1');
  const s = await dev.createSnapshot();
  const c = await dev.snapshotChunk(s.body.snapshot_id, '?max_rows=5000');
  const bytes = (r: unknown) => Buffer.byteLength(JSON.stringify(r));
  sizes = {
    rows: s.body.row_count,
    bytes: s.body.byte_count,
    itemRow: bytes(c.body.rows.find((r: any) => r.table === 'items')),
    docRow: bytes(c.body.rows.find((r: any) => r.table === 'docs')),
  };
  expect(sizes.rows).toBe(4);
  expect(sizes.docRow).toBeGreaterThan(sizes.itemRow);
});
afterAll(() => base?.close());

/** Status of a snapshot build for the same data on a server with `limits` (same database, own runtime). */
async function buildWith(limits: Record<string, number>): Promise<number> {
  const { createSyncServer } = await import('../../server/index.ts');
  const server = await createSyncServer({ database: base.testDatabase.openAnother(), tables: TABLES, limits });
  try {
    const res = await server.handle(
      new Request('http://x/sync/snapshot-sessions', { method: 'POST', headers: { 'Oversync-Source-ID': 'device-1' } }),
      { userId: 'pia' },
    );
    return res.status;
  } finally {
    await server.close();
  }
}

it('fails the build when a row is above max_bytes_per_snapshot_row, sized in SQL or in Node', async () => {
  expect(await buildWith({ maxBytesPerSnapshotRow: sizes.docRow })).toBe(200);
  // The jsonb row is rendered in Node; the text rows are sized in SQL.
  expect(await buildWith({ maxBytesPerSnapshotRow: sizes.docRow - 1 })).toBe(500);
  expect(await buildWith({ maxBytesPerSnapshotRow: sizes.itemRow - 1 })).toBe(500);
});

it('fails the build above max_bytes_per_snapshot_session and max_rows_per_snapshot_session', async () => {
  expect(await buildWith({ maxBytesPerSnapshotSession: sizes.bytes })).toBe(200);
  expect(await buildWith({ maxBytesPerSnapshotSession: sizes.bytes - 1 })).toBe(500);
  expect(await buildWith({ maxRowsPerSnapshotSession: sizes.rows })).toBe(200);
  expect(await buildWith({ maxRowsPerSnapshotSession: sizes.rows - 1 })).toBe(500);
});
