// Exactness with go-json-numbers peers: an int8 sent as a JSON number beyond 2^53 is carried with
// its own digits (read from the request text, never through float64) into PostgreSQL and back
// out to both dialects; a number that a column cannot hold exactly is refused with a typed 400
// naming table, key and column, and nothing is staged. Contract sessions still refuse JSON numbers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRequestHash } from '../../protocol/hashes.ts';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let go: RawSyncClient;
const USER = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';
const task = (n: number) => `33333333-3333-4333-8333-${String(n).padStart(12, '0')}`;

function taskRow(n: number, priority: string, estimate = 'null'): string {
  return `{"schema":"business","table":"tasks","key":{"id":"${task(n)}"},"op":"INSERT","base_row_version":0,"payload":{"id":"${task(n)}","project_id":"${PROJECT}","title":"t${n}","done":false,"priority":${priority},"estimate_hours":${estimate}}}`;
}

async function pushText(c: RawSyncClient, sourceBundleId: number, rows: string[]) {
  const created = await c.createPush(sourceBundleId, rows.length);
  expect(created.status).toBe(200);
  const chunk = await c.request(
    'POST',
    `/sync/push-sessions/${created.body.push_id}/chunks`,
    undefined,
    `{"start_row_ordinal":0,"rows":[${rows.join(',')}]}`,
  );
  return { created, chunk };
}

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'dialect_big_ints', wireDialect: 'auto' });
  go = new RawSyncClient(h.baseUrl, h.tokenFor('gopher'), 'go-device');
  await go.connect(false);
  const seed = await go.push(1, [
    {
      schema: 'business',
      table: 'users',
      key: { id: USER },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: USER, name: 'U', created_at: '2026-01-01T00:00:00Z' },
    },
    {
      schema: 'business',
      table: 'projects',
      key: { id: PROJECT },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: PROJECT, owner_id: USER, title: 'P' },
    },
  ]);
  expect(seed.status).toBe(200);
});
afterAll(() => h?.close());

describe('int8 beyond 2^53 from a numbers peer', () => {
  const values = ['9007199254740993', '-9007199254740993', '9223372036854775807', '-9223372036854775808', '123456789012345678'];

  it('is stored and served with its exact digits', async () => {
    const { created, chunk } = await pushText(
      go,
      2,
      values.map((v, i) => taskRow(i, v, '1e+21')),
    );
    expect(chunk.status).toBe(200);
    const committed = await go.commit(created.body.push_id);
    expect(committed.status).toBe(200);
    const stored = await h.database.query<{ id: string; priority: string; estimate_hours: number }>(
      'SELECT id::text AS id, priority::text AS priority, estimate_hours FROM business.tasks ORDER BY id',
    );
    expect(stored.rows.map((r) => r.priority)).toEqual(values);
    expect(stored.rows.every((r) => r.estimate_hours === 1e21)).toBe(true);

    const res = await fetch(`${h.baseUrl}/sync/committed-bundles/${committed.body.bundle_seq}/rows`, { headers: go.headers() });
    const text = await res.text();
    for (const v of values) expect(text).toContain(`"priority":${v},`);
    expect(text).toContain('"estimate_hours":1e+21');

    const strings = go.withSource('strings-reader');
    const pulled = await strings.pull(`?after_bundle_seq=${committed.body.bundle_seq - 1}`);
    expect(pulled.body.bundles[0].rows.map((r: { payload: { priority: string } }) => r.payload.priority)).toEqual(values);
  });

  for (const [what, value, column, message] of [
    ['beyond int64', '9223372036854775808', 'priority', /out of range for int8/],
    ['a fraction for an integer column', '1.5', 'priority', /is not an integer/],
    ['an exponent for an integer column', '1e3', 'priority', /is not an integer/],
  ] as const) {
    it(`refuses ${what} with a 400 naming table, key and column`, async () => {
      const { created, chunk } = await pushText(go, 3, [taskRow(90, value)]);
      expect(chunk.status).toBe(400);
      expect(chunk.body.error).toBe('push_chunk_invalid');
      expect(chunk.body.message).toContain('business.tasks');
      expect(chunk.body.message).toContain(task(90));
      expect(chunk.body.message).toContain(`column "${column}"`);
      expect(chunk.body.message).toMatch(message);
      const staged = await h.database.query<{ n: string }>('SELECT count(*)::text AS n FROM sync.push_session_rows WHERE push_id = $1', [
        created.body.push_id,
      ]);
      expect(staged.rows[0]!.n).toBe('0');
      await go.deletePush(created.body.push_id);
    });
  }

  it('refuses an int4 value out of range (weight)', async () => {
    const created = await go.createPush(3, 1);
    const chunk = await go.request(
      'POST',
      `/sync/push-sessions/${created.body.push_id}/chunks`,
      undefined,
      `{"start_row_ordinal":0,"rows":[{"schema":"business","table":"tags","key":{"name":"w"},"op":"INSERT","base_row_version":0,"payload":{"name":"w","weight":2147483648}}]}`,
    );
    expect(chunk.status).toBe(400);
    expect(chunk.body.error).toBe('push_chunk_invalid');
    expect(chunk.body.message).toBe('rows[0]: business.tags key "w" column "weight": JSON number 2147483648 is out of range for int4');
    await go.deletePush(created.body.push_id);
  });

  it('a contracts session (canonical_request_hash) still refuses JSON numbers as legacy_json_number', async () => {
    const rows: PushRow[] = [
      { schema: 'business', table: 'tags', key: { name: 'n' }, op: 'INSERT', base_row_version: 0, payload: { name: 'n', weight: '1' } },
    ];
    const created = await go.createPush(3, 1, { canonical_request_hash: await pushRequestHash(rows) });
    const chunk = await go.chunk(created.body.push_id, 0, [{ ...rows[0]!, payload: { name: 'n', weight: 1 } }]);
    expect(chunk.status).toBe(400);
    expect(chunk.body).toMatchObject({ error: 'push_chunk_invalid' });
    expect(chunk.body.message).toBe('rows[0]: business.tags key "n" column "weight": 1 is not a valid integer value (legacy_json_number)');
  });
});
