// Rows already in registered tables before the first bootstrap are adopted: one baseline bundle
// per user from an `oversync-adoption:` source, visible to pull and snapshot, updatable by devices,
// never leaking across users, and never adopted twice (restart).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundleHash } from '../../protocol/hashes.ts';
import { createSyncServer } from '../../server/index.ts';
import { SAMPLE_SCHEMA_SQL, SAMPLE_TABLES, startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const U1 = 'bbbbbbbb-0000-4000-8000-000000000001';
const U2 = 'bbbbbbbb-0000-4000-8000-000000000002';
const U3 = 'bbbbbbbb-0000-4000-8000-000000000003';

let h: StartedSyncServer;
beforeAll(async () => {
  // The rows go in before createSyncServer runs, i.e. before any sync trigger exists.
  h = await startSyncServer({
    purpose: 'adoption',
    schemaSql: `${SAMPLE_SCHEMA_SQL};
      INSERT INTO business.users (_sync_scope_id, id, name) VALUES ('olga', '${U1}', 'Olga'), ('olga', '${U2}', 'Olga 2'), ('pavel', '${U3}', 'Pavel');`,
  });
});
afterAll(() => h?.close());

it("adopts each user's rows as one baseline bundle that pull and snapshot serve", async () => {
  const olga = new RawSyncClient(h.baseUrl, h.tokenFor('olga'), 'olga-phone');
  expect((await olga.connect(false)).body).toEqual({ resolution: 'remote_authoritative' });
  const pulled = await olga.pull();
  expect(pulled.status).toBe(200);
  expect(pulled.body.bundles).toHaveLength(1);
  const [bundle] = pulled.body.bundles;
  expect(bundle.source_id).toMatch(/^oversync-adoption:[0-9a-f-]{36}$/);
  expect(bundle.rows.map((r: { key: { id: string } }) => r.key.id).sort()).toEqual([U1, U2]);
  expect(
    bundle.rows.every(
      (r: { row_version: number; payload: { name: string } }) => r.row_version === bundle.bundle_seq && typeof r.payload.name === 'string',
    ),
  ).toBe(true);
  expect(await bundleHash(bundle.rows)).toBe(bundle.bundle_hash);

  const snapshot = await olga.request('POST', '/sync/snapshot-sessions');
  expect(snapshot.body.row_count).toBe(2);

  // Pavel sees only his own row.
  const pavel = new RawSyncClient(h.baseUrl, h.tokenFor('pavel'), 'pavel-phone');
  await pavel.connect(false);
  const pavelRows = (await pavel.pull()).body.bundles.flatMap((b: { rows: unknown[] }) => b.rows);
  expect(pavelRows.map((r: { key: { id: string } }) => r.key.id)).toEqual([U3]);
});

it('a device updates an adopted row against its adopted version', async () => {
  const olga = new RawSyncClient(h.baseUrl, h.tokenFor('olga'), 'olga-laptop');
  await olga.connect(false);
  const [bundle] = (await olga.pull()).body.bundles;
  const row = bundle.rows.find((r: { key: { id: string } }) => r.key.id === U1);
  const pushed = await olga.push(1, [
    {
      schema: 'business',
      table: 'users',
      key: { id: U1 },
      op: 'UPDATE',
      base_row_version: row.row_version,
      payload: { ...row.payload, name: 'Olga renamed' },
    },
  ]);
  expect(pushed.status).toBe(200);
});

it('a restart adopts nothing twice', async () => {
  const before = await h.database.query<{ n: string }>('SELECT count(*)::text AS n FROM sync.bundle_log');
  const again = await createSyncServer({ database: h.testDatabase.openAnother(), tables: SAMPLE_TABLES });
  await again.close();
  const after = await h.database.query<{ n: string }>('SELECT count(*)::text AS n FROM sync.bundle_log');
  expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
});
