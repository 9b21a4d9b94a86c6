// One server process, one user's data, two peers of different dialects: a go-oversync 1f1118f
// client (no canonical_request_hash: JSON numbers, go-json hashes) and a contracts client
// (canonical_request_hash: numeric strings, JCS hashes). Each pushes; each pulls both bundles and
// snapshots the data in its own dialect, with bundle hashes it can verify; a source that never
// pushed is served strings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goJsonBundleHash } from '../../protocol/go-json-hash.ts';
import { bundleHash, pushRequestHash } from '../../protocol/hashes.ts';
import type { BundleRow, PushRow, SnapshotRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let go: RawSyncClient;
let jcs: RawSyncClient;
let fresh: RawSyncClient;
const USER = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';
const TASK_GO = '33333333-3333-4333-8333-333333333333';
const TASK_JCS = '44444444-4444-4444-8444-444444444444';

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'dialect_both_peers', wireDialect: 'auto' });
  const token = h.tokenFor('shared-user');
  go = new RawSyncClient(h.baseUrl, token, 'go-client');
  jcs = new RawSyncClient(h.baseUrl, token, 'ts-client');
  fresh = new RawSyncClient(h.baseUrl, token, 'never-pushed');
  await go.connect(false);
});
afterAll(() => h?.close());

interface Bundle {
  bundle_seq: number;
  bundle_hash: string;
  rows: BundleRow[];
}

describe('both dialects against the same data', () => {
  it('the go-oversync peer pushes with numbers', async () => {
    const created = await go.createPush(1, 3);
    const body = `{"start_row_ordinal":0,"rows":[
      {"schema":"business","table":"users","key":{"id":"${USER}"},"op":"INSERT","base_row_version":0,"payload":{"id":"${USER}","name":"A&B","email":null,"created_at":"2026-01-01T00:00:00Z"}},
      {"schema":"business","table":"projects","key":{"id":"${PROJECT}"},"op":"INSERT","base_row_version":0,"payload":{"id":"${PROJECT}","owner_id":"${USER}","title":"P","budget":1000.5,"archived":0}},
      {"schema":"business","table":"tasks","key":{"id":"${TASK_GO}"},"op":"INSERT","base_row_version":0,"payload":{"id":"${TASK_GO}","project_id":"${PROJECT}","title":"from go","done":1,"priority":9007199254740993,"estimate_hours":1e-7,"attachment":null,"due_at":null}}]}`;
    expect((await go.request('POST', `/sync/push-sessions/${created.body.push_id}/chunks`, undefined, body)).status).toBe(200);
    const committed = await go.commit(created.body.push_id);
    expect(committed.body).toMatchObject({ bundle_seq: 1, row_count: 3 });
  });

  it('the contracts peer pushes with numeric strings and a canonical_request_hash', async () => {
    const rows: PushRow[] = [
      {
        schema: 'business',
        table: 'tasks',
        key: { id: TASK_JCS },
        op: 'INSERT',
        base_row_version: 0,
        payload: {
          id: TASK_JCS,
          project_id: PROJECT,
          title: 'from ts <&>',
          done: '0',
          priority: '-9223372036854775808',
          estimate_hours: '2.5',
          attachment: null,
          due_at: null,
        },
      },
      {
        schema: 'business',
        table: 'tasks',
        key: { id: TASK_GO },
        op: 'UPDATE',
        base_row_version: 1,
        payload: {
          id: TASK_GO,
          project_id: PROJECT,
          title: 'from go, edited by ts',
          done: '1',
          priority: '9007199254740993',
          estimate_hours: '1e-7',
          attachment: null,
          due_at: null,
        },
      },
    ];
    const committed = await jcs.push(1, rows, 1000, { canonical_request_hash: await pushRequestHash(rows) });
    expect(committed.status).toBe(200);
    expect(committed.body).toMatchObject({ bundle_seq: 2, row_count: 2 });
    expect(committed.body.canonical_request_hash).toBeDefined();
    const page = await jcs.committedRows(2);
    expect(await bundleHash(page.body.rows)).toBe(committed.body.bundle_hash);
  });

  it('the go-oversync peer pulls both bundles with numbers and go-json hashes', async () => {
    const res = await fetch(`${h.baseUrl}/sync/pull?after_bundle_seq=0`, { headers: go.headers() });
    const text = await res.text();
    expect(text).toContain('"priority":9007199254740993');
    expect(text).toContain('"priority":-9223372036854775808');
    const pulled = JSON.parse(text) as { bundles: Bundle[] };
    expect(pulled.bundles.map((b) => b.bundle_seq)).toEqual([1, 2]);
    for (const b of pulled.bundles) expect(await goJsonBundleHash(b.rows)).toBe(b.bundle_hash);
    const edited = pulled.bundles[1]!.rows.find((r) => r.key.id === TASK_GO)!;
    expect(edited.payload).toMatchObject({ title: 'from go, edited by ts', done: true, estimate_hours: 1e-7 });
  });

  it('the contracts peer pulls both bundles with strings and JCS hashes', async () => {
    const pulled = await jcs.pull('?after_bundle_seq=0');
    const bundles = pulled.body.bundles as Bundle[];
    expect(bundles.map((b) => b.bundle_seq)).toEqual([1, 2]);
    for (const b of bundles) expect(await bundleHash(b.rows)).toBe(b.bundle_hash);
    const project = bundles[0]!.rows.find((r) => r.table === 'projects')!;
    expect(project.payload).toMatchObject({ budget: '1000.50', archived: false });
    const task = bundles[0]!.rows.find((r) => r.table === 'tasks')!;
    expect(task.payload).toMatchObject({ priority: '9007199254740993', estimate_hours: '1e-7', done: true });
  });

  it('a source that never pushed is served strings', async () => {
    const pulled = await fresh.pull('?after_bundle_seq=0');
    const bundles = pulled.body.bundles as Bundle[];
    for (const b of bundles) expect(await bundleHash(b.rows)).toBe(b.bundle_hash);
    expect(bundles[1]!.rows.find((r) => r.key.id === TASK_JCS)!.payload).toMatchObject({ priority: '-9223372036854775808' });
  });

  it("snapshots are served in each source's dialect with the same values", async () => {
    const read = async (c: RawSyncClient) => {
      const s = await c.createSnapshot();
      expect(s.status).toBe(200);
      const res = await fetch(`${h.baseUrl}/sync/snapshot-sessions/${s.body.snapshot_id}`, { headers: c.headers() });
      const text = await res.text();
      return { text, chunk: JSON.parse(text) as { rows: SnapshotRow[]; byte_count: number } };
    };
    const g = await read(go);
    const j = await read(jcs);
    expect(g.text).toContain('"priority":9007199254740993');
    expect(g.text).toContain('"budget":1000.50');
    expect(j.text).toContain('"priority":"9007199254740993"');
    expect(g.chunk.rows).toHaveLength(4);
    expect(j.chunk.rows).toHaveLength(4);
    // The same rows once numeric strings are read as numbers.
    const NUMERIC = new Set(['budget', 'priority', 'estimate_hours', 'weight']);
    const asNumbers = (rows: SnapshotRow[]) =>
      rows.map((r) => ({
        ...r,
        payload: Object.fromEntries(
          Object.entries(r.payload).map(([k, v]) => [k, NUMERIC.has(k) && typeof v === 'string' ? Number(v) : v]),
        ),
      }));
    expect(asNumbers(j.chunk.rows)).toEqual(asNumbers(g.chunk.rows));
    expect(g.chunk.byte_count).toBeLessThan(j.chunk.byte_count);
  });
});
