// Bootstrap fails closed, with a message naming the problem, when a registered table lacks the
// envelope the runtime relies on, and when the registered set differs from the frozen catalog.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSyncServer } from '../../server/index.ts';
import { createTestDatabase } from '../harness/test-database.ts';
import type { TestDatabase } from '../harness/test-database.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('bootstrap_envelope');
  await db.exec(`
    CREATE SCHEMA app;
    CREATE TABLE app.no_scope (id uuid PRIMARY KEY, name text);
    CREATE TABLE app.int_key (_sync_scope_id text NOT NULL, id bigint NOT NULL, PRIMARY KEY (_sync_scope_id, id));
    CREATE TABLE app.no_unique (_sync_scope_id text NOT NULL, id uuid NOT NULL);
    CREATE TABLE app.upper ("_sync_scope_id" text NOT NULL, id text NOT NULL, "Name" text, PRIMARY KEY (_sync_scope_id, id));
    CREATE TABLE app.good (_sync_scope_id text NOT NULL, id text NOT NULL, note text, PRIMARY KEY (_sync_scope_id, id));
    CREATE TABLE app.other (_sync_scope_id text NOT NULL, id text NOT NULL, PRIMARY KEY (_sync_scope_id, id));
    CREATE TABLE app.fk_child (_sync_scope_id text NOT NULL, id text NOT NULL, other_id text, PRIMARY KEY (_sync_scope_id, id),
      FOREIGN KEY (_sync_scope_id, other_id) REFERENCES app.other (_sync_scope_id, id) DEFERRABLE INITIALLY DEFERRED);
    CREATE TABLE app.fk_not_deferrable (_sync_scope_id text NOT NULL, id text NOT NULL, other_id text, PRIMARY KEY (_sync_scope_id, id),
      FOREIGN KEY (_sync_scope_id, other_id) REFERENCES app.other (_sync_scope_id, id));
    CREATE TABLE app.fk_unscoped (_sync_scope_id text NOT NULL, id text NOT NULL, other_id text, other_scope text, PRIMARY KEY (_sync_scope_id, id),
      FOREIGN KEY (other_scope, other_id) REFERENCES app.other (_sync_scope_id, id) DEFERRABLE);
  `);
});
afterAll(() => db?.drop());

it.each([
  ['app', 'missing', 'id', /does not exist/],
  ['app', 'no_scope', 'id', /_sync_scope_id of type text/],
  ['app', 'int_key', 'id', /must be uuid or text/],
  ['app', 'no_unique', 'id', /unique index on exactly \(_sync_scope_id, id\)/],
  ['app', 'upper', 'id', /lowercase identifiers/],
  ['app', 'good', 'nope', /sync key column nope does not exist/],
])('rejects %s.%s (key %s)', async (schema, table, syncKey, message) => {
  await expect(createSyncServer({ database: db.openAnother(), tables: [{ schema, table, syncKey }] })).rejects.toThrow(message);
});

it('rejects bad registrations before touching the database', async () => {
  await expect(createSyncServer({ database: db.database, tables: [] })).rejects.toMatchObject({ code: 'invalid_request' });
  await expect(createSyncServer({ database: db.database, tables: [{ schema: 'App', table: 'good', syncKey: 'id' }] })).rejects.toThrow(
    /must match/,
  );
  await expect(
    createSyncServer({
      database: db.database,
      tables: [
        { schema: 'app', table: 'good', syncKey: 'id' },
        { schema: 'app', table: 'good', syncKey: 'id' },
      ],
    }),
  ).rejects.toThrow(/registered twice/);
});

it('freezes the registered set at first bootstrap and accepts the same set again', async () => {
  const first = await createSyncServer({ database: db.openAnother(), tables: [{ schema: 'app', table: 'good', syncKey: 'id' }] });
  await first.close();
  const again = await createSyncServer({ database: db.openAnother(), tables: [{ schema: 'app', table: 'good', syncKey: 'id' }] });
  await again.close();
  await expect(
    createSyncServer({
      database: db.openAnother(),
      tables: [
        { schema: 'app', table: 'good', syncKey: 'id' },
        { schema: 'app', table: 'other', syncKey: 'id' },
      ],
    }),
  ).rejects.toThrow(/registered set is frozen/);
});

it('requires foreign keys between registered tables to be closed, scope-paired and deferrable', async () => {
  const other = { schema: 'app', table: 'other', syncKey: 'id' };
  await expect(
    createSyncServer({ database: db.openAnother(), tables: [{ schema: 'app', table: 'fk_child', syncKey: 'id' }] }),
  ).rejects.toThrow(/references app\.other, which is not registered/);
  await expect(
    createSyncServer({ database: db.openAnother(), tables: [other, { schema: 'app', table: 'fk_not_deferrable', syncKey: 'id' }] }),
  ).rejects.toThrow(/must be DEFERRABLE/);
  await expect(
    createSyncServer({ database: db.openAnother(), tables: [other, { schema: 'app', table: 'fk_unscoped', syncKey: 'id' }] }),
  ).rejects.toThrow(/rows only reference rows of the same user/);
});
