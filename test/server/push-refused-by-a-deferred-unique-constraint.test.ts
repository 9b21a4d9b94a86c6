/**
 * A registered table with a secondary unique constraint declared DEFERRABLE INITIALLY DEFERRED:
 * a bundle that re-creates a value another row gave up in the same bundle commits (a bundle
 * carries upserts before deletes, so only a deferred check sees the end state), and a bundle
 * that leaves a value held twice is refused at the end of the commit as a protocol rejection
 * naming the pushed row and the constraint's columns (400 `push_commit_invalid`, never a 500),
 * through the three-request push and the one-request push alike, with nothing committed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import type { PushRow } from '../../protocol/wire.ts';

let h: StartedSyncServer;
/** Any well-formed hash: the one-request push takes the request hash the create step takes. */
const HASH = 'f'.repeat(64);
beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'deferred_unique',
    schemaSql: `CREATE SCHEMA IF NOT EXISTS uq;
      CREATE TABLE uq.labels (_sync_scope_id text NOT NULL, id text NOT NULL, name text NOT NULL,
        PRIMARY KEY (_sync_scope_id, id), CONSTRAINT labels_name_unique UNIQUE (_sync_scope_id, name) DEFERRABLE INITIALLY DEFERRED);`,
    tables: [{ schema: 'uq', table: 'labels', syncKey: 'id' }],
  });
});
afterAll(() => h?.close());

const label = (id: string, name: string, op: 'INSERT' | 'UPDATE' = 'INSERT', base = 0): PushRow => ({
  schema: 'uq',
  table: 'labels',
  key: { id },
  op,
  base_row_version: base,
  payload: { id, name },
});
const gone = (id: string, base: number): PushRow => ({ schema: 'uq', table: 'labels', key: { id }, op: 'DELETE', base_row_version: base });

async function names(user: string): Promise<string[]> {
  const r = await h.database.query<{ id: string; name: string }>('SELECT id, name FROM uq.labels WHERE _sync_scope_id = $1 ORDER BY id', [
    user,
  ]);
  return r.rows.map((x) => `${x.id}:${x.name}`);
}

for (const path of ['three requests', 'one request'] as const) {
  it(`${path}: a value given up and taken again in one bundle commits; a value held twice is refused, naming the row`, async () => {
    const user = path === 'one request' ? 'oona' : 'thea';
    const dev = new RawSyncClient(h.baseUrl, h.tokenFor(user), `device-${user}`);
    await dev.connect(false);
    const push = (sbid: number, rows: PushRow[]) =>
      path === 'one request' ? dev.pushInOneRequest(sbid, rows, { canonical_request_hash: HASH }) : dev.push(sbid, rows);

    expect((await push(1, [label('s', 'x'), label('t', 'y')])).status).toBe(200);
    // The app deleted s and created r with s's name: the bundle carries r's upsert first.
    const swap = await push(2, [label('r', 'x'), gone('s', 1)]);
    expect(swap.status).toBe(200);
    expect(await names(user)).toEqual(['r:x', 't:y']);

    // q takes t's name while t keeps it: refused at the end of the commit.
    const clash = await push(3, [label('p', 'z'), label('q', 'y')]);
    expect(clash.status).toBe(400);
    expect(clash.body.error).toBe('push_commit_invalid');
    expect(clash.body.rejection).toEqual({
      schema: 'uq',
      table: 'labels',
      key: { id: 'q' },
      op: 'INSERT',
      columns: ['name'],
      reason: 'unique_violation',
    });
    expect(clash.body.message).not.toMatch(/23505|labels_name_unique/);
    expect(await names(user)).toEqual(['r:x', 't:y']);
  });
}
