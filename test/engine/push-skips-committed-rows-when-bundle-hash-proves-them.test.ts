/**
 * A commit whose `bundle_hash` is the hash of the rows exactly as pushed (as bundle `bundle_seq`,
 * payloads in the protocol's outbound form, where booleans are JSON true/false, or as sent) proves
 * the committed content: the engine then replays its own rows without reading the committed rows
 * back, also when resuming after a lost commit response. A server whose rows endpoint would serve
 * something else is never asked. Any other commit is fetched and verified (see
 * push-bad-committed-bundle.test.ts and push-crash-resume-matrix.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import { normalizingFetch } from './support/normalizing-push-server.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE tasks (id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL, done BOOLEAN NOT NULL, n INTEGER)';
const TABLES = [{ table: 'tasks', syncKey: 'id' }];
const COMMITTED_ROWS = /^\/sync\/committed-bundles\//;

async function setup(booleansAsJson: boolean) {
  let scripted: typeof fetch = () => Promise.reject(new Error('not open yet'));
  // `booleansAsJson`: the server commits booleans in their outbound form (true/false), as ours does.
  const s = await openEngine(SCHEMA, TABLES, {
    retry: { attempts: 1 },
    ...(booleansAsJson
      ? {
          fetch: normalizingFetch(
            () => scripted,
            'done',
            (v) => v === '1',
          ),
        }
      : {}),
  });
  scripted = s.server.fetch;
  await attachStartedEmpty(s);
  s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', TABLES) }); // for a reopened engine
  const server = new PushResponder();
  server.install(s.server);
  s.db.exec("INSERT INTO tasks VALUES ('t1', 'write', 1, 5), ('t2', 'test', 0, NULL)");
  return { s, server };
}

describe('committed rows proved by bundle_hash', () => {
  for (const booleansAsJson of [false, true]) {
    it(`are not fetched back (booleans committed ${booleansAsJson ? 'as JSON booleans' : 'as sent'})`, async () => {
      const { s, server } = await setup(booleansAsJson);
      server.tamperNextRows = true; // would fail the push if the rows were read back
      expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', bundleSeq: 1, rowCount: 2 });
      expect(s.server.requestsTo('GET', COMMITTED_ROWS)).toEqual([]);
      expect(server.committed[0]!.rows.map((r) => r.payload!.done)).toEqual(booleansAsJson ? [true, false] : ['1', '0']);
      expect(rows(s.db, 'SELECT key_json, row_version, deleted FROM _sync_row_state ORDER BY key_json')).toEqual([
        { key_json: '{"id":"t1"}', row_version: 1, deleted: 0 },
        { key_json: '{"id":"t2"}', row_version: 1, deleted: 0 },
      ]);
      expect(rows(s.db, 'SELECT id, title, done, n FROM tasks ORDER BY id')).toEqual([
        { id: 't1', title: 'write', done: 1, n: 5 },
        { id: 't2', title: 'test', done: 0, n: null },
      ]);
      expect(scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state')).toBe(1);
      expect(scalar(s.db, 'SELECT next_source_bundle_id FROM _sync_source_state')).toBe(2);
      expect(s.engine.status.pendingCount).toBe(0);
    });
  }

  it('are not fetched when the bundle_seq is not the next one this device expected', async () => {
    const { s, server } = await setup(true);
    server.nextSeq = 7; // other devices committed bundles 1-6 that this device has not pulled
    expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', bundleSeq: 7, rowCount: 2 });
    expect(s.server.requestsTo('GET', COMMITTED_ROWS)).toEqual([]);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state WHERE row_version = 7')).toBe(2);
    expect(scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state')).toBe(0);
  });

  it('are not fetched when resuming after a lost commit response', async () => {
    const { s, server } = await setup(true);
    server.crashAfter('commit');
    await expect(s.engine.pushPending()).rejects.toMatchObject({ code: 'network_error' });
    expect(scalar(s.db, 'SELECT state FROM _sync_outbox_bundle')).toBe('prepared');
    const again = await s.reopen();
    // The retried create answers already_committed with the bundle's hash: proved, not fetched.
    expect(await again.pushPending()).toMatchObject({ outcome: 'committed', bundleSeq: 1, rowCount: 2 });
    expect(s.server.requestsTo('GET', COMMITTED_ROWS)).toEqual([]);
    expect(server.committed).toHaveLength(1);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state WHERE row_version = 1')).toBe(2);
    expect(again.status.pendingCount).toBe(0);
  });

  it('a commit that differs from the push is fetched, verified and applied', async () => {
    let scripted: typeof fetch = () => Promise.reject(new Error('not open yet'));
    const s = await openEngine(SCHEMA, TABLES, { fetch: normalizingFetch(() => scripted, 'title') });
    scripted = s.server.fetch;
    await attachStartedEmpty(s);
    new PushResponder().install(s.server);
    s.db.exec("INSERT INTO tasks VALUES ('t1', 'write', 1, 5)");
    expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 1 });
    expect(s.server.requestsTo('GET', COMMITTED_ROWS)).toHaveLength(1);
    expect(rows(s.db, 'SELECT title FROM tasks')).toEqual([{ title: 'WRITE' }]);
  });
});
