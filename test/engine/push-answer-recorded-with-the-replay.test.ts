/**
 * A push's answer (the outbox committed_remote, the seed lease consumed) is recorded by the
 * replay's own transaction when the replay follows at once (the bundle proved by its hash): a
 * one-row push is two durable commits, the freeze and the replay. The answer is recorded on its
 * own first when a seed lease is pending, and when anything fails between the answer and the
 * replay's commit (the outbox must not look unsent: a failed push may give an unsent bundle back
 * to the dirty set). A crash in between leaves the bundle prepared: pushed again, the server
 * answers already_committed and the replay happens once.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const TABLES = [{ table: 'users', syncKey: 'id' }];

async function setup(): Promise<EngineSetup & { responder: PushResponder }> {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  const responder = new PushResponder();
  responder.install(s.server);
  return Object.assign(s, { responder });
}

function countCommits(s: EngineSetup): { commits: number } {
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

const outboxState = (s: EngineSetup): unknown => scalar(s.db, 'SELECT state FROM _sync_outbox_bundle');
const posts = (s: EngineSetup): number => s.server.requests.filter((r) => r.method === 'POST').length;

async function reopen(s: EngineSetup) {
  await s.engine.close();
  s.server.on('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody(s.options.remoteSchema, s.options.tables) });
  return s.reopen();
}

it('commits a one-row push twice: the freeze, the replay with the answer', async () => {
  const s = await setup();
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  const counter = countCommits(s);
  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 1 });
  expect(counter.commits).toBe(2);
  expect(outboxState(s)).toBe('none');
  await s.engine.close();
});

it('records the answer first while a seed lease is pending, and consumes the lease', async () => {
  const s = await setup();
  s.db.exec("UPDATE _sync_attachment_state SET pending_initialization_id = 'lease-1'");
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  const counter = countCommits(s);
  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 1 });
  expect(counter.commits).toBe(3);
  expect(scalar(s.db, 'SELECT pending_initialization_id FROM _sync_attachment_state')).toBeNull();
  await s.engine.close();
});

it('records the answer when the replay fails, and resumes without uploading again', async () => {
  const s = await setup();
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  // The replay's transaction fails before its commit; the answer must be on disk after it.
  s.db.exec("CREATE TRIGGER fail BEFORE UPDATE ON _sync_outbox_bundle WHEN NEW.state = 'none' BEGIN SELECT RAISE(ABORT, 'fail'); END");
  await expect(s.engine.pushPending()).rejects.toThrow();
  expect(outboxState(s)).toBe('committed_remote');
  s.db.exec('DROP TRIGGER fail');
  const engine = await reopen(s);
  const before = posts(s);
  expect(await engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 1 });
  expect(posts(s)).toBe(before); // no upload again
  expect(outboxState(s)).toBe('none');
  expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')).toBe(0);
  await engine.close();
});

it('after a crash between the answer and the replay, pushes again and replays once', async () => {
  const s = await setup();
  s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
  // Nothing is written after the answer (as if the process died): every outbox update fails.
  s.db.exec(
    "CREATE TRIGGER crash BEFORE UPDATE ON _sync_outbox_bundle WHEN OLD.state = 'prepared' BEGIN SELECT RAISE(ABORT, 'crash'); END",
  );
  await expect(s.engine.pushPending()).rejects.toThrow();
  expect(outboxState(s)).toBe('prepared');
  s.db.exec('DROP TRIGGER crash');
  const engine = await reopen(s);
  expect(await engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 1 });
  expect(s.responder.committed).toHaveLength(1); // committed once on the server
  expect(outboxState(s)).toBe('none');
  expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')).toBe(0);
  expect(scalar(s.db, "SELECT name FROM users WHERE id = 'u1'")).toBe('Ada');
  await engine.close();
});
