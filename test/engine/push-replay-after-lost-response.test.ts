/**
 * A commit whose response is lost: the transport retries the commit (404, the session is gone),
 * the engine restarts with a fresh create, the server answers `already_committed` with the same
 * `canonical_request_hash`, and the engine fetches and replays the committed bundle, all inside
 * one `pushPending()` call and without a second commit.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { scalar } from './support/sqlite.ts';

it('replays after a lost commit response without committing twice', async () => {
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [{ table: 'users', syncKey: 'id' }]);
  await attachStartedEmpty(s);
  const server = new PushResponder();
  server.install(s.server);
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  server.crashAfter('commit');
  const res = await s.engine.pushPending();
  expect(res).toMatchObject({ outcome: 'committed', bundleSeq: 1, rowCount: 1 });
  expect(server.committed).toHaveLength(1);
  const creates = s.server.requestsTo('POST', '/sync/push-sessions');
  expect(creates).toHaveLength(2);
  expect(creates[0]!.body).toEqual(creates[1]!.body); // same tuple, same request hash
  expect(s.server.requestsTo('POST', /\/commit$/)).toHaveLength(2); // the retried commit met a 404
  expect(scalar(s.db, 'SELECT row_version FROM _sync_row_state')).toBe(1);
  expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')).toBe(0);
  expect(scalar(s.db, 'SELECT next_source_bundle_id FROM _sync_source_state')).toBe(2);
});
