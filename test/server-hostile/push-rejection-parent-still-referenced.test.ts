// A pushed DELETE of a parent whose child stays (a foreign key without ON DELETE CASCADE) is the
// client's mistake: 400 push_commit_invalid with rejection.reason still_referenced, naming the
// parent (the pushed row) and one child that still points at it; nothing is committed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const SCHEMA = `
CREATE SCHEMA IF NOT EXISTS shop;
CREATE TABLE shop.folders (_sync_scope_id text NOT NULL, id uuid NOT NULL, name text NOT NULL, PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE shop.files (
  _sync_scope_id text NOT NULL, id uuid NOT NULL, folder_id uuid NOT NULL, name text NOT NULL,
  PRIMARY KEY (_sync_scope_id, id),
  FOREIGN KEY (_sync_scope_id, folder_id) REFERENCES shop.folders (_sync_scope_id, id) DEFERRABLE INITIALLY DEFERRED
);`;

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'rejection_still_referenced',
    schemaSql: SCHEMA,
    tables: [
      { schema: 'shop', table: 'folders', syncKey: 'id' },
      { schema: 'shop', table: 'files', syncKey: 'id' },
    ],
  });
});
afterAll(() => h?.close());

it('names the deleted parent and a child still referencing it', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('vic'), 'vic-phone');
  await dev.connect(false);
  const folder = 'aaaaaaaa-0000-4000-8000-00000000f01d';
  const file = 'aaaaaaaa-0000-4000-8000-0000000000f1';
  const hash = { canonical_request_hash: 'e'.repeat(64) };
  expect(
    (
      await dev.push(
        1,
        [
          {
            schema: 'shop',
            table: 'folders',
            key: { id: folder },
            op: 'INSERT',
            base_row_version: 0,
            payload: { id: folder, name: 'docs' },
          },
          {
            schema: 'shop',
            table: 'files',
            key: { id: file },
            op: 'INSERT',
            base_row_version: 0,
            payload: { id: file, folder_id: folder, name: 'a.txt' },
          },
        ],
        1000,
        hash,
      )
    ).status,
  ).toBe(200);
  const res = await dev.push(2, [{ schema: 'shop', table: 'folders', key: { id: folder }, op: 'DELETE', base_row_version: 1 }], 1000, hash);
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('push_commit_invalid');
  expect(res.body.rejection).toEqual({
    schema: 'shop',
    table: 'folders',
    key: { id: folder },
    op: 'DELETE',
    columns: [],
    reason: 'still_referenced',
    references: { schema: 'shop', table: 'files', key: { id: file } },
  });
  expect(JSON.stringify(res.body)).not.toMatch(/violates|constraint|_fkey/);
  const rows = await h.database.query<{ n: number }>('SELECT count(*)::int AS n FROM shop.folders');
  expect(rows.rows[0]!.n).toBe(1);
});
