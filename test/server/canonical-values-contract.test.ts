// Contract `canonical-json/jcs-uniform-numeric-strings.json` end to end through PostgreSQL:
// every integer/decimal/float/boolean case is pushed into a column of its destination type and
// must come back as `committed_server`; every invalid case is rejected before any mutation; and
// the canonical committed bundle example hashes to the fixture's SHA-256.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRequestHash } from '../../protocol/hashes.ts';
import type { PushRow } from '../../protocol/wire.ts';
import { loadContract } from '../contracts.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

interface ValueCase {
  name: string;
  uploaded_wire: string;
  postgres_destination: string;
  committed_server: string | boolean;
}
interface InvalidCase {
  name: string;
  family: string;
  input: unknown;
  category: string;
}
const fixture = loadContract<{
  integer_cases: ValueCase[];
  decimal_cases: ValueCase[];
  float_cases: ValueCase[];
  boolean_cases: ValueCase[];
  invalid_cases: InvalidCase[];
  canonical_examples: {
    push_request: { canonical_bytes: string; sha256: string };
    committed_bundle: { canonical_bytes: string; sha256: string };
  };
}>('canonical-json/jcs-uniform-numeric-strings.json');

// One column per distinct destination type of the fixture.
const destinations = [
  ...new Set(
    [...fixture.integer_cases, ...fixture.decimal_cases, ...fixture.float_cases, ...fixture.boolean_cases].map(
      (c) => c.postgres_destination,
    ),
  ),
];
const columnOf = (dest: string) => `v_${dest.replace(/[^a-z0-9]+/g, '_').replace(/_+$/, '')}`;
const FAMILY_COLUMN: Record<string, string> = {
  integer: columnOf('int8'),
  decimal: columnOf('numeric(30,9)'),
  float: columnOf('float8'),
  boolean: columnOf('boolean'),
};

const SCHEMA = `
CREATE SCHEMA business;
CREATE TABLE business.typed_values (
  _sync_scope_id text NOT NULL, id text NOT NULL,
  ${destinations.map((d) => `${columnOf(d)} ${d}`).join(',\n  ')},
  PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE business.numeric_values (
  _sync_scope_id text NOT NULL, id text NOT NULL, amount numeric(20,10), count integer, enabled boolean,
  large_count bigint, ratio real, score double precision, small_count smallint,
  PRIMARY KEY (_sync_scope_id, id));
`;

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'canonical_values',
    schemaSql: SCHEMA,
    tables: [
      { schema: 'business', table: 'typed_values', syncKey: 'id' },
      { schema: 'business', table: 'numeric_values', syncKey: 'id' },
    ],
  });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('values-user'), 'device-values');
  await dev.connect(false);
});
afterAll(() => h?.close());

describe('canonical JSON numeric contract through PostgreSQL', () => {
  it('committed bundle example: same rows give the fixture bundle hash', async () => {
    const example = JSON.parse(fixture.canonical_examples.committed_bundle.canonical_bytes)[0];
    const pushed = JSON.parse(fixture.canonical_examples.push_request.canonical_bytes)[0];
    const row: PushRow = {
      schema: pushed.schema,
      table: pushed.table,
      key: pushed.key,
      op: pushed.op,
      base_row_version: 0,
      payload: pushed.payload,
    };
    const requestHash = await pushRequestHash([row]);
    expect(requestHash).toBe(fixture.canonical_examples.push_request.sha256);
    const committed = await dev.push(1, [row], 1000, { canonical_request_hash: requestHash });
    expect(committed.status).toBe(200);
    expect(committed.body.bundle_seq).toBe(1);
    expect(committed.body.bundle_hash).toBe(fixture.canonical_examples.committed_bundle.sha256);
    expect(committed.body.canonical_request_hash).toBe(requestHash);
    const rows = (await dev.committedRows(1)).body.rows;
    expect(rows[0].payload).toEqual(example.payload);
  });

  const cases = [...fixture.integer_cases, ...fixture.decimal_cases, ...fixture.float_cases, ...fixture.boolean_cases];
  it(`round-trips ${cases.length} value cases to their committed_server form`, async () => {
    const rows: PushRow[] = cases.map((c) => ({
      schema: 'business',
      table: 'typed_values',
      key: { id: c.name },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: c.name, [columnOf(c.postgres_destination)]: c.uploaded_wire },
    }));
    const committed = await dev.push(2, rows);
    expect(committed.status).toBe(200);
    const page = await dev.committedRows(committed.body.bundle_seq, '?max_rows=5000');
    const byId = new Map(page.body.rows.map((r: { key: { id: string }; payload: Record<string, unknown> }) => [r.key.id, r.payload]));
    for (const c of cases) {
      expect({ case: c.name, value: (byId.get(c.name) as Record<string, unknown>)[columnOf(c.postgres_destination)] }).toEqual({
        case: c.name,
        value: c.committed_server,
      });
    }
  });

  for (const c of fixture.invalid_cases) {
    it(`rejects ${c.name} (${c.family}, ${c.category}) before any mutation`, async () => {
      const session = await dev.createPush(3, 1);
      const bad = await dev.chunk(session.body.push_id, 0, [
        {
          schema: 'business',
          table: 'typed_values',
          key: { id: `bad-${c.name}` },
          op: 'INSERT',
          base_row_version: 0,
          payload: { id: `bad-${c.name}`, [FAMILY_COLUMN[c.family]!]: c.input },
        },
      ]);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('push_chunk_invalid');
      expect(bad.body.message).toContain(c.category);
      // Nothing was staged: the session still expects ordinal 0.
      const staged = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM sync.push_session_rows WHERE push_id = $1`, [
        session.body.push_id,
      ]);
      expect(staged.rows[0]!.n).toBe(0);
      await dev.deletePush(session.body.push_id);
    });
  }
});
