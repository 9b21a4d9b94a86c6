/**
 * Layout 5 clusters `_sync_dirty_rows` on its key (WITHOUT ROWID, no ordinal index or rowid), so a
 * capture writes one B-tree; each new change takes its ordinal from the connection's capture
 * order, above every stored one. A device upgraded from an earlier layout keeps every pending
 * change with its order; what it captures next, written directly or collected by a unit, goes
 * after them, and it pushes in that order.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { GroupCommit } from '../../worker/database/group-commit.ts';
import { CLIENT_LAYOUT_TABLES } from './support/client-layout.ts';
import { capabilitiesBody, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows } from './support/sqlite.ts';

const FIXTURES = new URL('../fixtures/client-metadata/', import.meta.url);
const insert = (id: string) => ({ sql: 'INSERT INTO users (id, name) VALUES (?, ?)', params: [id, id.toUpperCase()] });

for (const version of [3, 4]) {
  it(`a v${version} device keeps its pending order and captures after it into one B-tree`, async () => {
    // The dump's pending changes a (UPDATE, ordinal 1) and c (INSERT, ordinal 2), reordered with a gap.
    const dump = `${readFileSync(new URL(`v${version}.sql`, FIXTURES), 'utf8')}
      UPDATE _sync_dirty_rows SET dirty_ordinal = 7 WHERE key_json = '{"id":"a"}';
      UPDATE _sync_dirty_rows SET dirty_ordinal = 3 WHERE key_json = '{"id":"c"}';`;
    const s = await openEngine(dump, CLIENT_LAYOUT_TABLES);
    try {
      // One B-tree: no rowid, and no index besides the key the table is clustered on.
      expect(s.db.selectValue("SELECT sql LIKE '%WITHOUT ROWID' FROM sqlite_schema WHERE name = '_sync_dirty_rows'")).toBe(1);
      expect(rows(s.db, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = '_sync_dirty_rows'")).toEqual([]);
      expect(rows(s.db, 'SELECT key_json, op, dirty_ordinal FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
        { key_json: '{"id":"c"}', op: 'INSERT', dirty_ordinal: 3 },
        { key_json: '{"id":"a"}', op: 'UPDATE', dirty_ordinal: 7 },
      ]);

      // Captured directly by a trigger, then by a unit of two statements (collected, written set-based).
      s.db.exec("INSERT INTO users (id, name) VALUES ('d', 'D')");
      const units = new GroupCommit(
        s.sqlite3,
        s.db,
        () => {},
        (flush) => flush(),
      );
      expect(await units.submit({ statements: [insert('f'), insert('e')] })).toMatchObject({ ok: true });
      // An edit of a pending key keeps its place.
      s.db.exec("UPDATE users SET name = 'C edited' WHERE id = 'c'");
      expect(rows(s.db, 'SELECT key_json, op, dirty_ordinal FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
        { key_json: '{"id":"c"}', op: 'INSERT', dirty_ordinal: 3 },
        { key_json: '{"id":"a"}', op: 'UPDATE', dirty_ordinal: 7 },
        { key_json: '{"id":"d"}', op: 'INSERT', dirty_ordinal: 8 },
        { key_json: '{"id":"f"}', op: 'INSERT', dirty_ordinal: 9 },
        { key_json: '{"id":"e"}', op: 'INSERT', dirty_ordinal: 10 },
      ]);

      const server = new PushResponder();
      server.install(s.server);
      s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', CLIENT_LAYOUT_TABLES) });
      server.versions.set('users:{"id":"a"}', { version: 5, deleted: false, payload: { id: 'a', name: 'A' } });
      expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 5, conflicts: 0 });
      expect(server.committed[0]!.rows.map((r) => [r.key.id, r.op])).toEqual([
        ['c', 'INSERT'],
        ['a', 'UPDATE'],
        ['d', 'INSERT'],
        ['f', 'INSERT'],
        ['e', 'INSERT'],
      ]);
      expect(s.engine.status.pendingCount).toBe(0);
    } finally {
      await s.engine.close();
    }
  });
}
