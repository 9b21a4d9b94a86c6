// A snapshot build refuses a user whose live row versions (sync.row_state) name a row the
// business table does not hold (a broken invariant; nothing the server writes leaves one): the
// rows after it would be numbered past a gap, so the build fails instead of serving a snapshot
// whose row_count does not match its rows. Checked in the first of two tables and in the last.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const SCHEMA = `
CREATE SCHEMA business;
CREATE TABLE business.a (_sync_scope_id text NOT NULL, id text NOT NULL, v text, PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE business.b (_sync_scope_id text NOT NULL, id text NOT NULL, v text, PRIMARY KEY (_sync_scope_id, id));
`;

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'snapshot_ghost',
    schemaSql: SCHEMA,
    tables: [
      { schema: 'business', table: 'a', syncKey: 'id' },
      { schema: 'business', table: 'b', syncKey: 'id' },
    ],
  });
});
afterAll(() => h?.close());

async function seeded(user: string): Promise<RawSyncClient> {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor(user), 'device-1');
  await dev.connect(false);
  await h.server.writeAs(user, 'server:seed', async (tx) => {
    for (const t of ['a', 'b']) await tx.query(`INSERT INTO business.${t} (id, v) SELECT 'k' || g, 'v' FROM generate_series(1, 5) g`);
  });
  return dev;
}

/** A live row version of `user` in `table` whose business row does not exist. */
async function addGhost(user: string, table: 'a' | 'b', key: string): Promise<void> {
  await h.database.query(
    `INSERT INTO sync.row_state (user_pk, table_id, key_text, bundle_seq, deleted)
     SELECT u.user_pk, c.table_id, $3, 1, false FROM sync.user_state u, sync.table_catalog c
      WHERE u.user_id = $1 AND c.schema_name = 'business' AND c.table_name = $2`,
    [user, table, key],
  );
}

it('builds the snapshot while every live row version has its row', async () => {
  const dev = await seeded('una');
  const s = await dev.createSnapshot();
  expect(s.status).toBe(200);
  expect(s.body.row_count).toBe(10);
});

for (const table of ['a', 'b'] as const) {
  it(`fails the build when table ${table} has a live row version without its row`, async () => {
    const user = `ghost-${table}`;
    const dev = await seeded(user);
    await addGhost(user, table, 'k3x'); // sorts among the real keys, not last
    const s = await dev.createSnapshot();
    expect(s.status).toBe(500);
    const count = await h.database.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM sync.snapshot_sessions s JOIN sync.user_state u USING (user_pk) WHERE u.user_id = $1`,
      [user],
    );
    expect(count.rows[0]!.n).toBe('0');
  });
}
