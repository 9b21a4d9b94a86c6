/**
 * A freeze takes only the dirty rows of the tables synced now: an intent captured for a table
 * that a later configuration no longer syncs stays in the dirty set, untouched, while the rest is
 * pushed (the freeze then removes only the rows it took).
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows } from './support/sqlite.ts';

const SCHEMA = `
CREATE TABLE notes (id TEXT PRIMARY KEY NOT NULL, body TEXT);
CREATE TABLE drafts (id TEXT PRIMARY KEY NOT NULL, body TEXT);`;

it('pushes the synced tables and keeps the intents of a table no longer synced', async () => {
  const s = await openEngine(SCHEMA, [
    { table: 'notes', syncKey: 'id' },
    { table: 'drafts', syncKey: 'id' },
  ]);
  await attachStartedEmpty(s);
  s.db.exec(
    "INSERT INTO drafts VALUES ('d1', 'draft'); INSERT INTO notes VALUES ('n1', 'note'); INSERT INTO notes VALUES ('n2', 'note 2')",
  );
  await s.engine.close();

  const notesOnly = [{ table: 'notes', syncKey: 'id' }];
  const again = await s.reopen({ tables: notesOnly });
  s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', notesOnly) });
  const server = new PushResponder();
  server.install(s.server);
  expect(await again.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 2 });
  expect(server.committed[0]!.rows.map((r) => `${r.table} ${r.key.id}`)).toEqual(['notes n1', 'notes n2']);
  expect(rows(s.db, 'SELECT table_name, key_json, op FROM _sync_dirty_rows')).toEqual([
    { table_name: 'drafts', key_json: '{"id":"d1"}', op: 'INSERT' },
  ]);
  expect(rows(s.db, 'SELECT COUNT(*) AS n FROM _sync_outbox_rows')).toEqual([{ n: 0 }]);
});
