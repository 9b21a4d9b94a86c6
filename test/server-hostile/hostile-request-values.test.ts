// Values no client should send, answered 4xx with a code before any database work (never 500,
// never the database's text): NUL and lone surrogates in pushed text, member names and keys;
// values nested 10,000 deep; malformed percent-encoding in path ids; source ids that are too long,
// carry control characters or lone surrogates (header and new_source_id).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import type { RawResponse } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
let pushId: string;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'hostile_values' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('hostile'), 'hostile-phone');
  await dev.connect(false);
  pushId = (await dev.createPush(1, 1)).body.push_id;
});
afterAll(() => h?.close());

function expect4xx(res: RawResponse, code: string): void {
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.body.error).toBe(code);
  expect(JSON.stringify(res.body)).not.toMatch(
    /SQLSTATE|invalid byte sequence|unsupported Unicode|relation|URI malformed|Maximum call stack/i,
  );
}

function tag(name: string, extra: Record<string, unknown> = {}) {
  return { schema: 'business', table: 'tags', key: { name }, op: 'INSERT', base_row_version: 0, payload: { name, ...extra } };
}

const badChunks: Array<[string, () => string]> = [
  ['NUL in a text value', () => JSON.stringify({ start_row_ordinal: 0, rows: [tag('a', { color: 'x\u0000y' })] })],
  [
    'a lone surrogate in a text value',
    () =>
      `{"start_row_ordinal":0,"rows":[{"schema":"business","table":"tags","key":{"name":"a"},"op":"INSERT","base_row_version":0,"payload":{"name":"a","color":"x\\ud800y"}}]}`,
  ],
  [
    'a lone surrogate in a text key',
    () =>
      `{"start_row_ordinal":0,"rows":[{"schema":"business","table":"tags","key":{"name":"\\udc00"},"op":"INSERT","base_row_version":0,"payload":{"name":"\\udc00"}}]}`,
  ],
  ['NUL inside a jsonb value', () => JSON.stringify({ start_row_ordinal: 0, rows: [tag('a', { meta: { k: '\u0000' } })] })],
  ['NUL in a member name', () => JSON.stringify({ start_row_ordinal: 0, rows: [tag('a', { meta: { ['k\u0000']: 1 } })] })],
  [
    'a value nested 10,000 arrays deep',
    () =>
      `{"start_row_ordinal":0,"rows":[{"schema":"business","table":"tags","key":{"name":"a"},"op":"INSERT","base_row_version":0,"payload":{"name":"a","meta":${'['.repeat(10_000)}${']'.repeat(10_000)}}}]}`,
  ],
];

for (const [name, body] of badChunks) {
  it(`a chunk with ${name}: 400 push_chunk_invalid, nothing staged`, async () => {
    const res = await dev.request('POST', `/sync/push-sessions/${pushId}/chunks`, undefined, body());
    expect4xx(res, 'push_chunk_invalid');
    expect(res.body.message).toMatch(/\$\.rows\[0\]/);
    const staged = await h.database.query<{ n: number }>('SELECT count(*)::int AS n FROM sync.push_session_rows');
    expect(staged.rows[0]!.n).toBe(0);
  });
}

it('malformed percent-encoding in a path id: 4xx, not URI malformed', async () => {
  expect4xx(
    await dev.request('POST', '/sync/push-sessions/%E0%A4%A/chunks', { start_row_ordinal: 0, rows: [tag('a')] }),
    'push_chunk_invalid',
  );
  expect4xx(await dev.request('POST', '/sync/push-sessions/%ZZ/commit'), 'push_session_not_found');
  expect4xx(await dev.request('DELETE', '/sync/push-sessions/%'), 'push_session_not_found');
  expect4xx(await dev.request('GET', '/sync/snapshot-sessions/%C0%AF'), 'snapshot_chunk_invalid');
});

const badSourceIds: Array<[string, string]> = [
  ['10,000 characters', 'd'.repeat(10_000)],
  ['257 characters', 'd'.repeat(257)],
  ['a control character (TAB, which HTTP lets through)', 'dev\tice'],
];

for (const [name, sourceId] of badSourceIds) {
  it(`an Oversync-Source-ID of ${name}: 400 invalid_request before any database work`, async () => {
    const res = await dev.withSource(sourceId).connect(false);
    expect4xx(res, 'invalid_request');
    expect(res.body.message.length).toBeLessThan(300);
    const sources = await h.database.query<{ n: number }>('SELECT count(*)::int AS n FROM sync.source_state WHERE length(source_id) > 200');
    expect(sources.rows[0]!.n).toBe(0);
  });
}

it('a 256-character source id is accepted (the documented maximum)', async () => {
  expect((await dev.withSource('s'.repeat(256)).connect(false)).status).toBe(200);
});

for (const [name, next] of [
  ['10,000 characters', 'n'.repeat(10_000)],
  ['a lone surrogate', 'new\ud800'],
  ['surrounding whitespace', ' new-device '],
  ['NUL', 'new\u0000'],
] as const) {
  it(`a new_source_id of ${name}: 400 snapshot_session_invalid`, async () => {
    const body = `{"source_replacement":{"previous_source_id":"hostile-phone","new_source_id":${JSON.stringify(next).replace(/\ud800/g, '\\ud800')},"reason":"history_pruned"}}`;
    expect4xx(await dev.request('POST', '/sync/snapshot-sessions', undefined, body), 'snapshot_session_invalid');
  });
}

it('after all of it, the same session stages and commits a good chunk', async () => {
  expect((await dev.chunk(pushId, 0, [tag(`ok-${randomUUID()}`)])).status).toBe(200);
  expect((await dev.commit(pushId)).status).toBe(200);
});
