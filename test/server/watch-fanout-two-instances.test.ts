// The watch stream of one server instance wakes up when another instance (own connections)
// commits a bundle: fan-out through PostgreSQL LISTEN/NOTIFY. Also: catch-up on subscribe,
// heartbeats, the frame format of the watch contract, and the setup errors.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSyncServer } from '../../server/index.ts';
import type { SyncServer } from '../../server/index.ts';
import { loadContract } from '../contracts.ts';
import { SseReader } from '../harness/sse-reader.ts';
import { startSyncServer, SAMPLE_TABLES } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let a: StartedSyncServer;
let b: SyncServer;
beforeAll(async () => {
  a = await startSyncServer({ purpose: 'watch_fanout', watch: { enabled: true, heartbeatMs: 150, allow: (u) => u !== 'blocked' } });
  b = await createSyncServer({ database: a.testDatabase.openAnother(), tables: SAMPLE_TABLES, watch: { enabled: true } });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

async function openWatch(client: RawSyncClient, after: number): Promise<{ status: number; type: string | null; reader: SseReader }> {
  const res = await fetch(`${client.baseUrl}/sync/watch?after_bundle_seq=${after}`, { headers: client.headers() });
  return { status: res.status, type: res.headers.get('content-type'), reader: new SseReader(res.body!.getReader()) };
}

it('a bundle committed through instance B wakes a watcher on instance A', async () => {
  const dev = new RawSyncClient(a.baseUrl, a.tokenFor('tess'), 'phone');
  await dev.connect(false);
  const w = await openWatch(dev, 0);
  expect(w.status).toBe(200);
  expect(w.type).toBe('text/event-stream');
  // The first frame is a heartbeat (no catch-up: nothing committed yet).
  expect(await w.reader.next()).toEqual({ comment: 'heartbeat' });
  const committed = await b.writeAs('tess', 'server:b', (tx) => tx.query(`INSERT INTO business.tags (name) VALUES ('from-b')`));
  expect(committed.bundle.bundle_seq).toBe(1);
  expect(await w.reader.nextBundle()).toEqual({ bundle_seq: 1, source_id: 'server:b', source_bundle_id: 1 });
  // And a push through A's HTTP surface reaches the same stream.
  await dev.push(1, [
    { schema: 'business', table: 'tags', key: { name: 'from-a' }, op: 'INSERT', base_row_version: 0, payload: { name: 'from-a' } },
  ]);
  expect(await w.reader.nextBundle()).toEqual({ bundle_seq: 2, source_id: 'phone', source_bundle_id: 1 });
  await w.reader.cancel();
});

it('sends a catch-up event when the user is already ahead of after_bundle_seq', async () => {
  const dev = new RawSyncClient(a.baseUrl, a.tokenFor('tess'), 'tablet');
  const w = await openWatch(dev, 0);
  const first = await w.reader.next();
  expect(first?.event).toBe('bundle');
  expect(JSON.parse(first!.data!)).toEqual({ bundle_seq: 2 });
  await w.reader.cancel();
  const upToDate = await openWatch(dev, 2);
  expect(await upToDate.reader.next()).toEqual({ comment: 'heartbeat' });
  await upToDate.reader.cancel();
});

it('emits frames the watch contract parses', async () => {
  const fixture = loadContract<{ sseCases: Array<{ name: string; lines: string[]; expectedEvents?: unknown[] }> }>('watch/basic.json');
  const canonical = fixture.sseCases.find((c) => c.name === 'canonical-bundle-event')!;
  const heartbeat = fixture.sseCases.find((c) => c.name === 'heartbeat-comment')!;
  const { bundleEventFrame, HEARTBEAT_FRAME } = await import('../../server/watch/sse-stream.ts');
  expect(bundleEventFrame({ bundle_seq: 124, source_id: 'device-a', source_bundle_id: 7 })).toBe(
    `${canonical.lines[0]}\ndata: ${JSON.stringify(canonical.expectedEvents![0])}\n\n`,
  );
  expect(HEARTBEAT_FRAME).toBe(`${heartbeat.lines.join('\n')}\n`);
});

it('answers setup errors: forbidden, uninitialized, bad cursor, disabled', async () => {
  const blocked = await fetch(`${a.baseUrl}/sync/watch`, { headers: new RawSyncClient(a.baseUrl, a.tokenFor('blocked'), 'x').headers() });
  expect(blocked.status).toBe(403);
  expect((await blocked.json()).error).toBe('bundle_change_watch_forbidden');
  const caps = await new RawSyncClient(a.baseUrl, a.tokenFor('blocked'), 'x').capabilities();
  expect(caps.body.features.bundle_change_watch).toBe(false);
  const fresh = await fetch(`${a.baseUrl}/sync/watch`, { headers: new RawSyncClient(a.baseUrl, a.tokenFor('newbie'), 'x').headers() });
  expect(fresh.status).toBe(409);
  expect((await fresh.json()).error).toBe('scope_uninitialized');
  const bad = await fetch(`${a.baseUrl}/sync/watch?after_bundle_seq=-3`, {
    headers: new RawSyncClient(a.baseUrl, a.tokenFor('tess'), 'x').headers(),
  });
  expect(bad.status).toBe(400);
  expect((await bad.json()).error).toBe('invalid_request');
  const noWatch = await createSyncServer({ database: a.testDatabase.openAnother(), tables: SAMPLE_TABLES });
  try {
    const r = await noWatch.handle(new Request('http://x/sync/watch', { headers: { 'Oversync-Source-ID': 'x' } }), { userId: 'tess' });
    expect(r.status).toBe(503);
    expect((await r.json()).error).toBe('bundle_change_watch_disabled');
  } finally {
    await noWatch.close();
  }
});
