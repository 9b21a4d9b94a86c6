/**
 * A table keyed by a BLOB UUID (16 raw bytes locally) refuses a key written any other way (its
 * dashed text, a blob of another length, NULL) at the write itself, with a message naming the
 * column and the fix. Before, such a row was captured under the hex of its text, the freeze could
 * not find it under that key, took its change for a cancelled one, and the row never reached the
 * server, with no error. Nothing of a refused write is captured; a key written as its bytes syncs.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = `CREATE TABLE notes (id BLOB PRIMARY KEY NOT NULL, body TEXT);`;
const U = '0123abcd-0000-4000-8000-00000000000a';
const hex = U.replace(/-/g, '');

it('refuses a BLOB UUID key written as text, another length or NULL; captures nothing of it', async () => {
  const s = await openEngine(SCHEMA, [{ table: 'notes', syncKey: 'id' }], { retry: { attempts: 1 } });
  await attachStartedEmpty(s);
  const refused = /notes\.id is a UUID key stored as a 16-byte BLOB: write its bytes/;
  expect(() => s.db.exec(`INSERT INTO notes VALUES ('${U}', 'as text')`)).toThrow(refused);
  expect(() => s.db.exec(`INSERT INTO notes VALUES (x'0123', 'two bytes')`)).toThrow(refused);
  expect(() => s.db.exec(`INSERT INTO notes VALUES (NULL, 'null')`)).toThrow(refused);
  expect(scalar(s.db, 'SELECT count(*) FROM notes')).toBe(0);
  expect(scalar(s.db, 'SELECT count(*) FROM _sync_dirty_rows')).toBe(0);

  s.db.exec(`INSERT INTO notes VALUES (unhex('${hex}'), 'as bytes')`);
  expect(() => s.db.exec(`UPDATE notes SET id = '${U}'`)).toThrow(refused);
  expect(rows(s.db, 'SELECT hex(id) AS id, body FROM notes')).toEqual([{ id: hex.toUpperCase(), body: 'as bytes' }]);

  new PushResponder().install(s.server);
  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 1 });
});
