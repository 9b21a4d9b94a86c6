// A pull page of more than 1,000 rows is sent as it is read (committed-rows.ts `streamedPage`):
// chunked, piece by piece, so the client decodes the first rows while PostgreSQL builds the next.
// The bytes together are still exactly JSON.stringify of the response, every row as
// `GET /sync/committed-bundles/{seq}/rows` serves it, also with a bundle in the middle that goes
// row by row (a json column) and bundles cut into pieces. When retention prunes the page's rows
// while it is sent, the body is cut short (never a page with bundles missing rows), and the next
// pull answers 409 history_pruned. The prune runs while a piece of the page waits to be read
// (StageGate, real PostgreSQL).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StageGate } from '../harness/stage-gate.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

const SCHEMA = `
CREATE SCHEMA business;
CREATE TABLE business.items (
  _sync_scope_id text NOT NULL, id uuid NOT NULL, label text, PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE business.docs (
  _sync_scope_id text NOT NULL, name text NOT NULL, body jsonb, PRIMARY KEY (_sync_scope_id, name));
`;
const TABLES = [
  { schema: 'business', table: 'items', syncKey: 'id' },
  { schema: 'business', table: 'docs', syncKey: 'name' },
];

const gate = new StageGate();
// PGlite is one connection: the prune cannot run while the paused piece holds it.
const onPostgres = it.skipIf(TEST_DB_KIND === 'pglite');
let h: StartedSyncServer;

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'pull_streamed', schemaSql: SCHEMA, tables: TABLES, wrapDatabase: (db) => gate.wrap(db) });
});
afterAll(() => h?.close());

/** A user with bundles of 1,500 items, 3 docs (row by row), 700 items: 2,203 rows. */
async function userWithLargePage(user: string): Promise<RawSyncClient> {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor(user), 'device-1');
  await dev.connect(false);
  const items = (from: number, count: number) =>
    h.server.writeAs(user, `server:items-${from}`, async (tx) => {
      await tx.query(
        `INSERT INTO business.items (id, label)
         SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'item "' || i || '" é' FROM generate_series($1::int, $2::int) AS i`,
        [from, from + count - 1],
      );
    });
  await items(0, 1500);
  await h.server.writeAs(user, 'server:docs', async (tx) => {
    for (const name of ['a', 'b', 'c'])
      await tx.query('INSERT INTO business.docs (name, body) VALUES ($1, $2)', [name, { name, n: [1, 2.5] }]);
  });
  await items(1500, 700);
  return dev;
}

it('a page of 2,203 rows comes chunked, in pieces, exactly as committed-rows serves its rows', async () => {
  const dev = await userWithLargePage('una');
  const res = await fetch(`${h.baseUrl}/sync/pull?after_bundle_seq=0&max_bundles=10`, { headers: dev.headers() });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-length')).toBeNull();
  expect(res.headers.get('transfer-encoding')).toBe('chunked');
  const text = await res.text();
  const page = JSON.parse(text) as { bundles: { bundle_seq: number; row_count: number; rows: unknown[] }[]; has_more: boolean };
  expect(text).toBe(JSON.stringify(page));
  expect(page.has_more).toBe(false);
  expect(page.bundles.map((b) => [b.row_count, b.rows.length])).toEqual([
    [1500, 1500],
    [3, 3],
    [700, 700],
  ]);
  for (const b of page.bundles) {
    const committed: unknown[] = [];
    for (let query = '?max_rows=1000'; ;) {
      const part = await dev.committedRows(b.bundle_seq, query);
      expect(part.status).toBe(200);
      const body = part.body as { rows: unknown[]; has_more: boolean; next_row_ordinal: number };
      committed.push(...body.rows);
      if (!body.has_more) break;
      query = `?max_rows=1000&after_row_ordinal=${body.next_row_ordinal}`;
    }
    expect(b.rows.map((r) => JSON.stringify(r))).toEqual(committed.map((r) => JSON.stringify(r)));
  }
});

onPostgres('rows pruned while the page is sent: the body is cut short, the next pull is 409 history_pruned', async () => {
  const dev = await userWithLargePage('ursa');
  // Pieces are range scans of the primary key (`row_ordinal) >=`); the first of the two read at
  // once waits before it runs, so its rows (both begin in bundle 1) are read after the prune.
  const paused = gate.arm(/r\.row_ordinal\) >= /, 'before');
  const body = fetch(`${h.baseUrl}/sync/pull?after_bundle_seq=0&max_bundles=10`, { headers: dev.headers() }).then((res) => res.text());
  const stage = await paused;
  await h.server.pruneHistory('ursa', 2);
  stage.resume();
  await expect(body).rejects.toThrow();
  const again = await dev.pull('?after_bundle_seq=0&max_bundles=10');
  expect(again.status).toBe(409);
  expect(again.body.error).toBe('history_pruned');
});
