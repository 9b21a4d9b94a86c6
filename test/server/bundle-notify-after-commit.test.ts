// A committed bundle's NOTIFY is sent after its transaction committed, in a transaction of its
// own (asynchronously committed): a NOTIFY inside the bundle's transaction would hold
// PostgreSQL's cluster-wide notification lock through that commit's WAL flush. Every commit
// path announces: the one-request push, the three-request commit, a server-originated write,
// and a re-sent push (one request, or a re-created session) that finds its bundle committed. Another instance on the same database
// still hears each; close waits for announcements in flight.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SqlDatabase, SqlSession } from '../../server/database/types.ts';
import { createSyncServer } from '../../server/index.ts';
import type { SyncServer } from '../../server/index.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { SAMPLE_TABLES, sampleUserInsert } from '../harness/sample-schema.ts';

/** Statements in order: `tx` inside a withConnection session, `db` on the database itself. */
const log: Array<{ where: 'tx' | 'db'; sql: string }> = [];
function traced(db: SqlDatabase): SqlDatabase {
  const wrap = (s: SqlSession): SqlSession => ({
    query(text, params) {
      log.push({ where: 'tx', sql: text });
      return s.query(text, params);
    },
  });
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'withConnection') return <T>(fn: (s: SqlSession) => Promise<T>) => target.withConnection((s) => fn(wrap(s)));
      if (prop === 'query')
        return (text: string, params?: readonly unknown[]) => {
          log.push({ where: 'db', sql: text });
          return target.query(text, params);
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

let h: StartedSyncServer;
let other: SyncServer;
const heard: Array<{ bundle_seq: number; source_id?: string }> = [];
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'notify_after_commit', wrapDatabase: traced });
  // A second instance on the same database: it hears of bundles by NOTIFY only.
  other = await createSyncServer({ database: h.database, tables: SAMPLE_TABLES, watch: { enabled: true, heartbeatMs: 1000 } });
});
afterAll(async () => {
  await other?.close();
  await h?.close();
});

const USERS = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'];

/** The bundle's NOTIFY: once, on the database (not in a transaction's session), after a COMMIT. */
function expectAnnouncedAfterCommit(bundleSeq: number): void {
  const notifies = log.filter((s) => s.sql.includes('pg_notify') && s.sql.includes(`"bundle_seq":${bundleSeq},`));
  expect(notifies).toHaveLength(1);
  expect(notifies[0]!.where).toBe('db');
  expect(notifies[0]!.sql).toMatch(/^BEGIN; SET LOCAL synchronous_commit TO off; SELECT pg_notify\(/);
  const at = log.indexOf(notifies[0]!);
  expect(log.slice(0, at).some((s) => s.where === 'tx' && s.sql === 'COMMIT')).toBe(true);
  expect(log.filter((s) => s.where === 'tx' && s.sql.includes('pg_notify'))).toEqual([]);
}

async function untilHeard(bundleSeq: number): Promise<void> {
  for (let i = 0; i < 200 && !heard.some((e) => e.bundle_seq === bundleSeq); i++) await new Promise((r) => setTimeout(r, 10));
  expect(heard.map((e) => e.bundle_seq)).toContain(bundleSeq);
}

/** The NOTIFYs of `bundleSeq` logged since the log was cleared, once one went out (it is not awaited by the answer). */
async function announcedAgain(bundleSeq: number): Promise<typeof log> {
  const sent = () => log.filter((s) => s.where === 'db' && s.sql.includes('pg_notify') && s.sql.includes(`"bundle_seq":${bundleSeq},`));
  for (let i = 0; i < 200 && sent().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  return sent();
}

it('announces every commit after it, and another instance hears each', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('nora'), 'nora-a');
  expect((await dev.connect(false)).status).toBe(200);
  // The other instance's watch stream for nora (its hub is fed by NOTIFY alone).
  const watch = await other.handle(
    new Request('http://other/sync/watch?after_bundle_seq=0', {
      headers: { 'Oversync-Source-ID': 'nora-b' },
    }),
    { userId: 'nora' },
  );
  expect(watch.status).toBe(200);
  const reader = watch.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const m of decoder.decode(value).matchAll(/data: (\{[^\n]*\})/g)) heard.push(JSON.parse(m[1]!));
    }
  })();

  log.length = 0;
  const one = await dev.pushInOneRequest(1, [sampleUserInsert(USERS[0]!, 'A')], { canonical_request_hash: 'a'.repeat(64) });
  expect(one.status).toBe(200);
  await untilHeard(1);
  expectAnnouncedAfterCommit(1);

  log.length = 0;
  const three = await dev.push(2, [sampleUserInsert(USERS[1]!, 'B')], 1000, { canonical_request_hash: 'a'.repeat(64) });
  expect(three.body.bundle_seq).toBe(2);
  await untilHeard(2);
  expectAnnouncedAfterCommit(2);

  log.length = 0;
  await h.server.writeAs('nora', 'server', (tx) =>
    tx.query(`INSERT INTO business.users (_sync_scope_id, id, name) VALUES ('nora', $1, 'C')`, [USERS[2]]),
  );
  await untilHeard(3);
  expectAnnouncedAfterCommit(3);
  expect(heard.find((e) => e.bundle_seq === 3)?.source_id).toBe('server');

  // A re-sent one-request push finds its bundle committed and announces it again (a hint the
  // first answer's process may have died before sending).
  log.length = 0;
  const again = await dev.pushInOneRequest(1, [sampleUserInsert(USERS[0]!, 'A')], { canonical_request_hash: 'a'.repeat(64) });
  expect(again.body.status).toBe('already_committed');
  expect(await announcedAgain(1)).toHaveLength(1);

  // So does a three-request pusher's re-created session (go-oversync's clients push that way).
  log.length = 0;
  const recreated = await dev.push(2, [sampleUserInsert(USERS[1]!, 'B')], 1000, { canonical_request_hash: 'a'.repeat(64) });
  expect(recreated.body.status).toBe('already_committed');
  expect(await announcedAgain(2)).toHaveLength(1);
  await reader.cancel();
});
