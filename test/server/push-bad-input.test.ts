// Bad push input gets the protocol's code and status, and nothing partial is staged or committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
const U = '55555555-5555-4555-8555-555555555555';
const good = (name = 'ok') => ({ schema: 'business', table: 'tags', key: { name }, op: 'INSERT', base_row_version: 0, payload: { name } });

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_bad_input', limits: { maxRowsPerPushChunk: 3, maxRequestBodyBytes: 4096 } });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('judy'), 'device-1');
  await dev.connect(false);
});
afterAll(() => h?.close());

async function stagedCount(pushId: string): Promise<number> {
  const r = await h.database.query<{ n: number }>('SELECT count(*)::int AS n FROM sync.push_session_rows WHERE push_id = $1', [pushId]);
  return r.rows[0]!.n;
}

describe('push-session create', () => {
  it.each([
    ['zero source_bundle_id', { source_bundle_id: 0, planned_row_count: 1 }],
    ['string source_bundle_id', { source_bundle_id: '1', planned_row_count: 1 }],
    ['zero planned_row_count', { source_bundle_id: 1, planned_row_count: 0 }],
    ['bad canonical_request_hash', { source_bundle_id: 1, planned_row_count: 1, canonical_request_hash: 'xyz' }],
    ['initialization_id once initialized', { source_bundle_id: 1, planned_row_count: 1, initialization_id: U }],
  ])('%s → 400 push_session_invalid', async (_name, body) => {
    const r = await dev.request('POST', '/sync/push-sessions', body);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('push_session_invalid');
  });
  it('malformed JSON → 400 invalid_request', async () => {
    const r = await dev.request('POST', '/sync/push-sessions', undefined, '{"source_bundle_id":');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'invalid_request' });
  });
});

describe('push chunk', () => {
  const cases: Array<[string, unknown]> = [
    ['unknown table', [{ ...good(), table: 'nope' }]],
    ['unknown column', [{ ...good(), payload: { name: 'ok', bogus: 'x' } }]],
    ['hidden scope column', [{ ...good(), payload: { name: 'ok', _sync_scope_id: 'judy' } }]],
    ['bad op', [{ ...good(), op: 'UPSERT' }]],
    ['missing key', [{ ...good(), key: {} }]],
    [
      'non-canonical uuid key',
      [{ schema: 'business', table: 'users', key: { id: 'ABCDEF01-2345-4678-89AB-CDEF01234567' }, op: 'DELETE', base_row_version: 0 }],
    ],
    ['payload on DELETE', [{ ...good(), op: 'DELETE', payload: { name: 'ok' } }]],
    ['no payload on INSERT', [{ ...good(), payload: undefined }]],
    ['key/payload mismatch', [{ ...good(), payload: { name: 'other' } }]],
    ['JSON number for integer column', [{ ...good(), payload: { name: 'ok', weight: 5 } }]],
    ['int4 out of range', [{ ...good(), payload: { name: 'ok', weight: '2147483648' } }]],
    ['number for text column', [{ ...good(), payload: { name: 'ok', color: 7 } }]],
    ['negative base_row_version', [{ ...good(), base_row_version: -1 }]],
    ['duplicate key in chunk', [good('d'), good('d')]],
    ['empty rows', []],
    ['oversized chunk', [good('a'), good('b'), good('c'), good('e')]],
    ['rows not an array', { not: 'rows' }],
  ];
  it.each(cases)('%s → 400 push_chunk_invalid, nothing staged', async (_name, rows) => {
    const s = await dev.createPush(1, 4);
    const r = await dev.request('POST', `/sync/push-sessions/${s.body.push_id}/chunks`, { start_row_ordinal: 0, rows });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('push_chunk_invalid');
    expect(r.body.message.length).toBeGreaterThan(10);
    expect(await stagedCount(s.body.push_id)).toBe(0);
  });

  it('malformed JSON → 400 invalid_request; chunk beyond planned → push_chunk_invalid; out of order → 409', async () => {
    const s = await dev.createPush(1, 1);
    const bad = await dev.request('POST', `/sync/push-sessions/${s.body.push_id}/chunks`, undefined, '[1,');
    expect(bad.body.error).toBe('invalid_request');
    const beyond = await dev.chunk(s.body.push_id, 0, [good('x'), good('y')]);
    expect(beyond.status).toBe(400);
    expect(beyond.body.error).toBe('push_chunk_invalid');
    const ahead = await dev.chunk(s.body.push_id, 1, [good('x')]);
    expect(ahead.status).toBe(409);
    expect(ahead.body.error).toBe('push_chunk_out_of_order');
    expect(await stagedCount(s.body.push_id)).toBe(0);
  });

  it('a body above maxRequestBodyBytes → 400 push_chunk_invalid without buffering it, nothing staged', async () => {
    const s = await dev.createPush(1, 1);
    const r = await dev.chunk(s.body.push_id, 0, [{ ...good('big'), payload: { name: 'big', color: 'x'.repeat(8000) } }]);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'push_chunk_invalid', message: 'request body exceeds 4096 bytes' });
    expect(await stagedCount(s.body.push_id)).toBe(0);
  });

  it('unknown, non-uuid, foreign and expired sessions', async () => {
    expect((await dev.chunk('not-a-uuid', 0, [good()])).status).toBe(404);
    expect((await dev.chunk('66666666-6666-4666-8666-666666666666', 0, [good()])).body.error).toBe('push_session_not_found');
    const s = await dev.createPush(1, 1);
    const mallory = new RawSyncClient(h.baseUrl, h.tokenFor('mallory'), 'device-1');
    const foreign = await mallory.chunk(s.body.push_id, 0, [good()]);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toBe('push_session_forbidden');
    expect((await mallory.commit(s.body.push_id)).status).toBe(403);
    expect((await mallory.deletePush(s.body.push_id)).status).toBe(403);
    expect((await dev.withSource('device-2').chunk(s.body.push_id, 0, [good()])).status).toBe(403);
    await h.database.query(`UPDATE sync.push_sessions SET expires_at = now() - interval '1 second' WHERE push_id = $1`, [s.body.push_id]);
    const expired = await dev.chunk(s.body.push_id, 0, [good()]);
    expect(expired.status).toBe(410);
    expect(expired.body.error).toBe('push_session_expired');
    expect((await dev.commit(s.body.push_id)).status).toBe(410);
    expect((await dev.deletePush(s.body.push_id)).status).toBe(410);
  });
});

describe('push commit', () => {
  it('an incomplete session → 400 push_commit_invalid; DELETE then 404', async () => {
    const s = await dev.createPush(1, 2);
    await dev.chunk(s.body.push_id, 0, [good('one')]);
    const r = await dev.commit(s.body.push_id);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('push_commit_invalid');
    expect((await dev.deletePush(s.body.push_id)).status).toBe(204);
    expect((await dev.deletePush(s.body.push_id)).status).toBe(404);
  });

  it('the same key in two chunks → push_commit_invalid', async () => {
    const s = await dev.createPush(1, 2);
    await dev.chunk(s.body.push_id, 0, [good('twice')]);
    await dev.chunk(s.body.push_id, 1, [good('twice')]);
    expect((await dev.commit(s.body.push_id)).body.error).toBe('push_commit_invalid');
  });

  it('a database rejection (FK to a missing parent, bad timestamp) → 400 push_commit_invalid naming the row, nothing committed', async () => {
    const orphan = {
      schema: 'business',
      table: 'projects',
      key: { id: U },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: U, owner_id: U, title: 'orphan' },
    };
    const fk = await dev.push(1, [good('kept-out'), orphan]);
    expect(fk.status).toBe(400);
    expect(fk.body.error).toBe('push_commit_invalid');
    expect(fk.body.rejection).toMatchObject({ table: 'projects', key: { id: U }, reason: 'missing_reference', columns: ['owner_id'] });
    expect(fk.body.message).not.toContain('23503');
    const ts = await dev.push(1, [
      {
        schema: 'business',
        table: 'users',
        key: { id: U },
        op: 'INSERT',
        base_row_version: 0,
        payload: { id: U, name: 'x', created_at: 'yesterday-ish' },
      },
    ]);
    expect(ts.body.error).toBe('push_commit_invalid');
    expect(ts.body.rejection).toMatchObject({ table: 'users', reason: 'invalid_value', columns: ['created_at'] });
    const counts = await h.database.query<{ tags: number; bundles: number; seq: string }>(
      `SELECT (SELECT count(*)::int FROM business.tags) AS tags, (SELECT count(*)::int FROM sync.bundle_log) AS bundles,
              (SELECT next_bundle_seq::text FROM sync.user_state WHERE user_id = 'judy') AS seq`,
    );
    expect(counts.rows[0]).toEqual({ tags: 0, bundles: 0, seq: '1' });
  });
});

describe('transport', () => {
  it('no user → 401 authentication_failed; no source header → 400 invalid_request', async () => {
    const anon = new RawSyncClient(h.baseUrl, null, 'device-1');
    const r = await anon.pull();
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('authentication_failed');
    const forged = new RawSyncClient(h.baseUrl, `${h.tokenFor('judy').slice(0, -4)}AAAA`, 'device-1');
    expect((await forged.pull()).status).toBe(401);
    const noSource = dev.withSource(null);
    const s = await noSource.pull();
    expect(s.status).toBe(400);
    expect(s.body).toMatchObject({ error: 'invalid_request', message: 'Oversync-Source-ID header is required' });
    expect((await dev.withSource('   ').createPush(1, 1)).status).toBe(400);
  });
  it('wrong method → 405; unknown sync path → 404 JSON', async () => {
    const r = await dev.request('GET', '/sync/connect');
    expect(r.status).toBe(405);
    expect(r.body.error).toBe('method_not_allowed');
    const nf = await dev.request('GET', '/sync/nothing-here');
    expect(nf.status).toBe(404);
    expect(nf.body.error).toBe('not_found');
  });
});
