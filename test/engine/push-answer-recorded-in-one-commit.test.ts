/**
 * A push's answer (the outbox is committed_remote, the seed lease consumed) is recorded in one
 * durable commit before the replay: as two autocommit statements it cost a flush each. A one-row
 * push is then three commits: the freeze, the answer, the replay. A crash right after the answer's
 * commit still resumes from committed_remote (the replay needs no upload again).
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const TABLES = [{ table: 'users', syncKey: 'id' }];

function countCommits(s: Awaited<ReturnType<typeof openEngine>>): { commits: number } {
  const counter = { commits: 0 };
  s.sqlite3.capi.sqlite3_commit_hook(
    s.db,
    () => {
      counter.commits++;
      return 0;
    },
    0,
  );
  return counter;
}

it('commits a one-row push in three transactions: freeze, answer, replay', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  new PushResponder().install(s.server);
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  const counter = countCommits(s);
  const result = await s.engine.pushPending();
  expect(result).toMatchObject({ outcome: 'committed', rowCount: 1 });
  expect(counter.commits).toBe(3);
  expect(scalar(s.db, 'SELECT state FROM _sync_outbox_bundle')).toBe('none');
  await s.engine.close();
});

it('resumes from committed_remote after a crash right after the answer was recorded', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  const responder = new PushResponder();
  responder.install(s.server);
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  // The replay's transaction fails (a crash before it could commit): the answer is on disk.
  s.db.exec("CREATE TRIGGER crash BEFORE UPDATE ON _sync_outbox_bundle WHEN NEW.state = 'none' BEGIN SELECT RAISE(ABORT, 'crash'); END");
  await expect(s.engine.pushPending()).rejects.toThrow();
  expect(scalar(s.db, 'SELECT state FROM _sync_outbox_bundle')).toBe('committed_remote');
  expect(scalar(s.db, 'SELECT pending_initialization_id FROM _sync_attachment_state')).toBeNull();
  s.db.exec('DROP TRIGGER crash');
  await s.engine.close();
  s.server.on('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody(s.options.remoteSchema, s.options.tables) });
  const engine = await s.reopen();
  const uploadsBefore = s.server.requests.filter((r) => r.method === 'POST').length;
  const again = await engine.pushPending();
  expect(again).toMatchObject({ outcome: 'committed', rowCount: 1 });
  expect(s.server.requests.filter((r) => r.method === 'POST').length).toBe(uploadsBefore); // no upload again
  expect(scalar(s.db, 'SELECT state FROM _sync_outbox_bundle')).toBe('none');
  await engine.close();
});
