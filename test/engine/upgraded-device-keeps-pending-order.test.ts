/**
 * Layout 3 makes `dirty_ordinal` the rowid of `_sync_dirty_rows`. A device upgraded from an
 * earlier layout keeps every pending change, in capture order, even where the old layout held
 * equal ordinals (a requeue could leave them); it pushes them in that order, and what the app
 * captures after the upgrade goes after them.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CLIENT_LAYOUT_TABLES } from './support/client-layout.ts';
import { capabilitiesBody, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows } from './support/sqlite.ts';

const FIXTURES = new URL('../fixtures/client-metadata/', import.meta.url);

for (const version of [1, 2]) {
  it(`a v${version} device with ordinals out of row order and equal ones pushes in capture order`, async () => {
    // The dump's pending changes: a (UPDATE, ordinal 1) and c (INSERT, ordinal 2). Reordered, and
    // a pending delete of b with the same ordinal as c (inserted after it).
    const dump = `${readFileSync(new URL(`v${version}.sql`, FIXTURES), 'utf8')}
      UPDATE _sync_dirty_rows SET dirty_ordinal = 7 WHERE key_json = '{"id":"a"}';
      UPDATE _sync_dirty_rows SET dirty_ordinal = 3 WHERE key_json = '{"id":"c"}';
      INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal)
        VALUES ('main', 'users', '{"id":"b"}', 'DELETE', 6, NULL, 3);`;
    const s = await openEngine(dump, CLIENT_LAYOUT_TABLES);
    try {
      expect(rows(s.db, 'SELECT key_json, op, dirty_ordinal FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
        { key_json: '{"id":"c"}', op: 'INSERT', dirty_ordinal: 1 },
        { key_json: '{"id":"b"}', op: 'DELETE', dirty_ordinal: 2 },
        { key_json: '{"id":"a"}', op: 'UPDATE', dirty_ordinal: 3 },
      ]);
      expect(s.db.selectValue("SELECT COUNT(*) FROM sqlite_schema WHERE name = '_sync_dirty_rows_ordinal'")).toBe(0);
      s.db.exec("INSERT INTO users (id, name) VALUES ('d', 'D')");
      expect(s.db.selectValue('SELECT dirty_ordinal FROM _sync_dirty_rows WHERE key_json = \'{"id":"d"}\'')).toBe(4);

      const server = new PushResponder();
      server.install(s.server);
      s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', CLIENT_LAYOUT_TABLES) });
      server.versions.set('users:{"id":"a"}', { version: 5, deleted: false, payload: { id: 'a', name: 'A' } });
      server.versions.set('users:{"id":"b"}', { version: 6, deleted: false, payload: { id: 'b', name: 'B' } });
      expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 4, conflicts: 0 });
      // Upserts in capture order, then the delete.
      expect(server.committed[0]!.rows.map((r) => [r.key.id, r.op])).toEqual([
        ['c', 'INSERT'],
        ['a', 'UPDATE'],
        ['d', 'INSERT'],
        ['b', 'DELETE'],
      ]);
      expect(s.engine.status.pendingCount).toBe(0);
    } finally {
      await s.engine.close();
    }
  });
}
