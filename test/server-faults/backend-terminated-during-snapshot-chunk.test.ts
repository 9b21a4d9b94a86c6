// The connection dies while a snapshot chunk is read (a pooled one-statement read, not a held
// connection): the test holds an exclusive lock on the session's row table so the read waits in
// PostgreSQL, kills that waiting backend, then lets go. The chunk is answered 503
// database_unavailable and the retried chunk serves the rows.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectDatabaseUnavailable, startFaultServer, tagRows } from '../harness/fault-scenario.ts';
import type { FaultServer } from '../harness/fault-scenario.ts';
import { terminateBackend } from '../harness/stage-gate.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

let f: FaultServer;
beforeAll(async () => {
  if (TEST_DB_KIND === 'postgres') f = await startFaultServer('fault_snapshot_chunk');
});
afterAll(() => f?.h.close());

/** The pid of the backend waiting for a lock on `table`, once there is one (bounded wait). */
async function waitingBackend(admin: pg.Client, table: string): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const r = await admin.query<{ pid: number }>(`SELECT l.pid FROM pg_locks l WHERE NOT l.granted AND l.relation = $1::regclass`, [table]);
    if (r.rows[0]) return r.rows[0].pid;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no backend waits for ${table}`);
}

it.skipIf(TEST_DB_KIND === 'pglite')('answers 503 and the retried chunk serves the rows', async () => {
  const dev = new RawSyncClient(f.h.baseUrl, f.h.tokenFor('hal'), 'hal-phone');
  await dev.connect(false);
  expect((await dev.push(1, tagRows('hal', 7))).status).toBe(200);
  const created = await dev.createSnapshot();
  expect(created.status).toBe(200);
  const id: string = created.body.snapshot_id;
  const table = `sync."snapshot_rows_${id.replace(/-/g, '')}"`;

  const admin = new pg.Client({ connectionString: f.h.testDatabase.connectionString! });
  await admin.connect();
  try {
    await admin.query('BEGIN');
    await admin.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    const chunk = dev.snapshotChunk(id, '?after_row_ordinal=0');
    const pid = await waitingBackend(admin, table);
    await terminateBackend(pid);
    await admin.query('ROLLBACK');
    expectDatabaseUnavailable(await chunk);
  } finally {
    await admin.end();
  }
  const retried = await dev.snapshotChunk(id, '?after_row_ordinal=0');
  expect(retried.status).toBe(200);
  expect(retried.body.rows).toHaveLength(7);
});
