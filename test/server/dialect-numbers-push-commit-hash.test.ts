// A go-oversync 1f1118f client (push session created without canonical_request_hash) pushes
// integer, real, decimal and boolean values as JSON numbers: the commit answers a bundle_hash in
// go-json material, and the committed rows it fetches back (values as JSON numbers) hash to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goJsonBundleHash } from '../../protocol/go-json-hash.ts';
import { bundleHash } from '../../protocol/hashes.ts';
import type { BundleRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let go: RawSyncClient;
const USER = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';
const TASK = '33333333-3333-4333-8333-333333333333';

// The chunk as go-oversync's Go client writes it: numbers bare, text with HTML-sensitive characters.
const CHUNK = `{"start_row_ordinal":0,"rows":[
 {"schema":"business","table":"users","key":{"id":"${USER}"},"op":"INSERT","base_row_version":0,"payload":{"id":"${USER}","name":"Ann & <Bob> \u2028 line","email":null,"created_at":"2026-03-24T10:42:11-08:00"}},
 {"schema":"business","table":"projects","key":{"id":"${PROJECT}"},"op":"INSERT","base_row_version":0,"payload":{"id":"${PROJECT}","owner_id":"${USER}","title":"P","budget":12.3,"archived":1}},
 {"schema":"business","table":"tasks","key":{"id":"${TASK}"},"op":"INSERT","base_row_version":0,"payload":{"id":"${TASK}","project_id":"${PROJECT}","title":"T","done":0,"priority":42,"estimate_hours":0.1,"attachment":"AAEC/w==","due_at":null}},
 {"schema":"business","table":"tags","key":{"name":"big"},"op":"INSERT","base_row_version":0,"payload":{"name":"big","color":"red","weight":-7,"meta":{"n":1e21,"s":"<x>"}}}
]}`;

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'dialect_numbers_commit', wireDialect: 'auto' });
  go = new RawSyncClient(h.baseUrl, h.tokenFor('gopher'), 'go-device');
  await go.connect(false);
});
afterAll(() => h?.close());

describe('numbers-dialect push, commit and replay', () => {
  let committedHash = '';

  it('commits JSON numbers and answers a go-json bundle_hash', async () => {
    const created = await go.createPush(1, 4);
    expect(created.status).toBe(200);
    expect(created.body.canonical_request_hash).toBeUndefined();
    const chunk = await go.request('POST', `/sync/push-sessions/${created.body.push_id}/chunks`, undefined, CHUNK);
    expect(chunk.status).toBe(200);
    const committed = await go.commit(created.body.push_id);
    expect(committed.status).toBe(200);
    expect(committed.body).toMatchObject({ bundle_seq: 1, source_id: 'go-device', source_bundle_id: 1, row_count: 4 });
    expect(committed.body.canonical_request_hash).toBeUndefined();
    committedHash = committed.body.bundle_hash;
  });

  it('serves the committed rows with numbers, and they hash (go-json) to the committed bundle_hash', async () => {
    const res = await fetch(`${h.baseUrl}/sync/committed-bundles/1/rows`, { headers: go.headers() });
    const text = await res.text();
    // Exact digits from PostgreSQL's text (numeric(12,2) keeps its scale), bare.
    expect(text).toContain('"budget":12.30');
    expect(text).toContain('"priority":42');
    expect(text).toContain('"estimate_hours":0.1');
    expect(text).toContain('"weight":-7');
    const page = JSON.parse(text) as { bundle_hash: string; rows: BundleRow[] };
    expect(page.bundle_hash).toBe(committedHash);
    const byTable = Object.fromEntries(page.rows.map((r) => [r.table, r.payload]));
    expect(byTable.users).toEqual({ id: USER, name: 'Ann & <Bob> \u2028 line', email: null, created_at: '2026-03-24T18:42:11+00:00' });
    expect(byTable.projects).toEqual({ id: PROJECT, owner_id: USER, title: 'P', budget: 12.3, archived: true });
    expect(byTable.tasks).toMatchObject({ done: false, priority: 42, estimate_hours: 0.1, attachment: 'AAEC/w==', due_at: null });
    expect(byTable.tags).toEqual({ name: 'big', color: 'red', weight: -7, meta: { n: 1e21, s: '<x>' } });
    expect(await goJsonBundleHash(page.rows)).toBe(committedHash);
    // Not the strings-dialect material.
    expect(await bundleHash(page.rows)).not.toBe(committedHash);
  });

  it('answers a re-created session of the same bundle with already_committed and the same hash', async () => {
    const again = await go.createPush(1, 4);
    expect(again.body).toMatchObject({ status: 'already_committed', bundle_seq: 1, row_count: 4, bundle_hash: committedHash });
  });

  it('pulls the bundle with numbers and the same go-json hash for the pushing source', async () => {
    const pulled = await go.pull('?after_bundle_seq=0');
    expect(pulled.status).toBe(200);
    const [bundle] = pulled.body.bundles as Array<{ bundle_hash: string; rows: BundleRow[] }>;
    expect(bundle!.bundle_hash).toBe(committedHash);
    expect(await goJsonBundleHash(bundle!.rows)).toBe(committedHash);
    expect(bundle!.rows.find((r) => r.table === 'tasks')!.payload).toMatchObject({ priority: 42 });
  });

  it('stores the values as PostgreSQL types', async () => {
    const r = await h.database.query<{ priority: string; estimate_hours: number; budget: string; done: boolean; weight: number }>(
      `SELECT t.priority::text AS priority, t.estimate_hours, p.budget::text AS budget, t.done, g.weight
         FROM business.tasks t, business.projects p, business.tags g`,
    );
    expect(r.rows[0]).toEqual({ priority: '42', estimate_hours: 0.1, budget: '12.30', done: false, weight: -7 });
  });
});
