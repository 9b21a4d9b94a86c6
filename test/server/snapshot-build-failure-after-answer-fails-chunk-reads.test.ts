// A piecewise build (server `snapshotBuildPieceRows`) that fails after its create was answered —
// here a row the server itself wrote, larger than max_bytes_per_snapshot_row, in a later piece —
// records why: every chunk read of the session then answers 500 snapshot_session_create_failed
// with that reason (the code a failed create answers, which both clients surface as a failed
// hydrate), the rows already built included, and nothing of the failing piece is in the table.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';
import { PIECE_ROWS, PROJECTS, builtThrough, eventually, seedUser } from './support/piecewise-snapshot.ts';

const internalErrors: unknown[] = [];
let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'snapshot_build_fails_late',
    limits: { snapshotBuildPieceRows: PIECE_ROWS, maxBytesPerSnapshotRow: 4000 },
    onInternalError: (err) => internalErrors.push(err),
  });
});
afterAll(() => h?.close());

it.skipIf(TEST_DB_KIND !== 'postgres')('fails every chunk read with the reason once the build failed', async () => {
  const dev = await seedUser(h, 'late');
  await h.server.writeAs('late', 'server:big', async (tx) => {
    await tx.query(`INSERT INTO business.tags (name, color) VALUES ('tag-big', repeat('x', 6000))`);
  });
  const created = await dev.createSnapshot();
  expect(created.status).toBe(200);
  const id = created.body.snapshot_id as string;
  let first: { status: number; body: { error?: string; message?: string } } | undefined;
  await eventually(async () => {
    first = await dev.snapshotChunk(id, '?after_row_ordinal=0&max_rows=10');
    return first.status !== 200;
  });
  expect(first!.status).toBe(500);
  expect(first!.body.error).toBe('snapshot_session_create_failed');
  expect(first!.body.message).toContain('max_bytes_per_snapshot_row 4000');
  const later = await dev.snapshotChunk(id, `?after_row_ordinal=${PROJECTS}&max_rows=10`);
  expect(later.status).toBe(500);
  expect(later.body.error).toBe('snapshot_session_create_failed');
  // The projects' second piece commits, or is cancelled when the tags piece fails first.
  expect([PIECE_ROWS, PROJECTS]).toContain(await builtThrough(h, id));
  // A limit is no internal error; the session is still deleted as usual.
  expect(internalErrors).toEqual([]);
  expect((await dev.deleteSnapshot(id)).status).toBe(204);
  expect(await builtThrough(h, id)).toBe(0);
});
