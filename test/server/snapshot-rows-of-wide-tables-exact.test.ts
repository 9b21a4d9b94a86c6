// Snapshot rows of a table wider than one SQL concat() call takes (the row text is built in SQL
// from nested concat() calls of at most 90 arguments, two per column): every member in column
// order, each value rendered as a pull renders it, the chunk body exactly JSON.stringify of itself.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const WIDTH = 130;
const FAMILIES = ['text', 'bigint', 'boolean', 'numeric(12,3)', 'timestamptz'] as const;
const columnType = (i: number) => FAMILIES[i % FAMILIES.length]!;
const SCHEMA = `
CREATE SCHEMA business;
CREATE TABLE business.wide (_sync_scope_id text NOT NULL, id text NOT NULL,
  ${Array.from({ length: WIDTH }, (_, i) => `c${i} ${columnType(i)}`).join(', ')},
  PRIMARY KEY (_sync_scope_id, id));
`;

/** Column i's value in row r (every fifth row leaves a column of each family NULL in turn). */
function value(r: number, i: number): string | null {
  if ((r + i) % 5 === 0) return null;
  switch (columnType(i)) {
    case 'text':
      return `t${r}.${i} "q" \\ é\n`;
    case 'bigint':
      return String(r * 1000 + i);
    case 'boolean':
      return (r + i) % 2 === 0 ? 'true' : 'false';
    case 'numeric(12,3)':
      return `${r}.${String(i).padStart(3, '0')}`;
    default:
      return `2026-01-0${1 + (r % 9)}T10:00:00.${String(i).padStart(6, '0')}Z`;
  }
}

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'snapshot_wide',
    schemaSql: SCHEMA,
    tables: [{ schema: 'business', table: 'wide', syncKey: 'id' }],
  });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('wren'), 'device-1');
  await dev.connect(false);
  await h.server.writeAs('wren', 'server:seed', async (tx) => {
    for (let r = 0; r < 7; r++) {
      const cols = Array.from({ length: WIDTH }, (_, i) => `c${i}`);
      await tx.query(`INSERT INTO business.wide (id, ${cols.join(', ')}) VALUES ($1, ${cols.map((_, i) => `$${i + 2}`).join(', ')})`, [
        `row-${r}`,
        ...cols.map((_, i) => value(r, i)),
      ]);
    }
  });
});
afterAll(() => h?.close());

it('renders every member of a 130-column row, in column order, as the pull does', async () => {
  const s = await dev.createSnapshot();
  expect(s.status).toBe(200);
  expect(s.body.row_count).toBe(7);
  const res = await fetch(`${h.baseUrl}/sync/snapshot-sessions/${s.body.snapshot_id}?after_row_ordinal=0`, {
    headers: { Authorization: `Bearer ${h.tokenFor('wren')}`, 'Oversync-Source-ID': 'device-1' },
  });
  expect(res.status).toBe(200);
  const body = await res.text();
  const chunk = JSON.parse(body);
  expect(body).toBe(JSON.stringify(chunk));
  expect(chunk.rows.map((row: { key: { id: string } }) => row.key.id)).toEqual(Array.from({ length: 7 }, (_, r) => `row-${r}`));

  // The same rows as the committed bundle carries them (rendered by the pull's own path).
  const pulled = await dev.pull('?after_bundle_seq=0');
  expect(pulled.status).toBe(200);
  const byKey = new Map<string, unknown>(
    pulled.body.bundles.flatMap((b: { rows: { key: { id: string }; payload: unknown }[] }) =>
      b.rows.map((row) => [row.key.id, row.payload]),
    ),
  );
  for (const row of chunk.rows) {
    expect(Object.keys(row.payload)).toEqual(['id', ...Array.from({ length: WIDTH }, (_, i) => `c${i}`)]);
    expect(row.payload).toEqual(byKey.get(row.key.id));
  }
  expect(chunk.byte_count).toBe(Buffer.byteLength(chunk.rows.map((row: unknown) => JSON.stringify(row)).join(''), 'utf8'));
});
