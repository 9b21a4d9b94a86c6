// A push committed through this server process reaches this process's watch streams at once,
// without waiting for the commit's NOTIFY to come back through the LISTEN connection (a round trip
// through PostgreSQL, handled only after the pusher's answer is written). Here the LISTEN
// connection holds every notification until released: the one-request push and the three-request
// commit still wake the watcher; the NOTIFY copies, once released, are not sent a second time;
// a server-originated write (no push) still arrives by NOTIFY.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SqlDatabase } from '../../server/database/types.ts';
import { SseReader } from '../harness/sse-reader.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let holding = true;
const held: Array<() => void> = [];

/** The database with a LISTEN connection that holds notifications while `holding`. */
function holdingNotifications(db: SqlDatabase): SqlDatabase {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'listen') {
        return (channel: string, onNotify: (payload: string) => void, onError?: (err: Error) => void) =>
          target.listen(channel, (payload) => (holding ? held.push(() => onNotify(payload)) : onNotify(payload)), onError);
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'watch_own_commits',
    watch: { enabled: true, heartbeatMs: 200 },
    wrapDatabase: holdingNotifications,
  });
});
afterAll(async () => {
  await h?.close();
});

function tag(name: string) {
  return { schema: 'business', table: 'tags', key: { name }, op: 'INSERT', base_row_version: 0, payload: { name } } as const;
}

it('wakes watchers of the pushing process without the NOTIFY, and once per bundle', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('wren'), 'phone');
  await dev.connect(false);
  const res = await fetch(`${h.baseUrl}/sync/watch?after_bundle_seq=0`, { headers: dev.headers() });
  const reader = new SseReader(res.body!.getReader());
  expect(await reader.next()).toEqual({ comment: 'heartbeat' });

  expect((await dev.pushInOneRequest(1, [tag('one')], { canonical_request_hash: 'a'.repeat(64) })).status).toBe(200);
  expect(await reader.nextBundle()).toEqual({ bundle_seq: 1, source_id: 'phone', source_bundle_id: 1 });
  expect((await dev.push(2, [tag('two')])).status).toBe(200);
  expect(await reader.nextBundle()).toEqual({ bundle_seq: 2, source_id: 'phone', source_bundle_id: 2 });
  await expect.poll(() => held.length).toBeGreaterThanOrEqual(2);

  // The NOTIFY copies arrive late: the stream already sent those bundles.
  holding = false;
  for (const deliver of held.splice(0)) deliver();
  expect(await reader.next()).toEqual({ comment: 'heartbeat' });

  // A server-originated write has no pusher: its watchers hear of it by NOTIFY.
  await h.server.writeAs('wren', 'server:job', (tx) => tx.query(`INSERT INTO business.tags (name) VALUES ('three')`));
  expect(await reader.nextBundle()).toEqual({ bundle_seq: 3, source_id: 'server:job', source_bundle_id: 1 });
  await reader.cancel();
});
