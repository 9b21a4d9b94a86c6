/**
 * A local value that cannot travel in its column's family (text in an INTEGER column, a REAL in
 * a boolean flag, a non-UUID in a BLOB key's FK, invalid JSON in a json column) makes the push
 * fail with a typed `wire_value_invalid` naming the table and column, before any request; the
 * freeze rolls back, so the change stays pending, and fixing the row lets the push go through.
 * Exact int64 values go up as exact decimal strings.
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, qty INTEGER, flag INTEGER, doc TEXT)';
const TABLES = [{ table: 'items', syncKey: 'id', columns: { flag: 'boolean' as const, doc: 'json' as const } }];

describe('unencodable local values', () => {
  for (const [name, sql, column] of [
    ['text in an INTEGER column', "INSERT INTO items VALUES ('i1', 'abc', 1, NULL)", 'qty'],
    ['2 in a boolean column', "INSERT INTO items VALUES ('i1', 1, 2, NULL)", 'flag'],
    ['invalid JSON in a json column', "INSERT INTO items VALUES ('i1', 1, 1, '{oops')", 'doc'],
  ] as const) {
    it(name, async () => {
      const s = await openEngine(SCHEMA, TABLES);
      await attachStartedEmpty(s);
      const server = new PushResponder();
      server.install(s.server);
      const before = s.server.requests.length;
      s.db.exec(sql);
      const err = await s.engine.pushPending().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'wire_value_invalid' });
      expect((err as Error).message).toContain(`items.${column}`);
      expect(s.server.requests.length).toBe(before);
      expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')).toBe(1);
      expect(scalar(s.db, 'SELECT state FROM _sync_outbox_bundle')).toBe('none');
      s.db.exec("UPDATE items SET qty = 9223372036854775807, flag = 0, doc = '{\"a\":[1,2]}' WHERE id = 'i1'");
      await expect(s.engine.pushPending()).resolves.toMatchObject({ outcome: 'committed' });
      expect(server.committed[0]!.rows[0]!.payload).toEqual({ id: 'i1', qty: '9223372036854775807', flag: '0', doc: { a: [1, 2] } });
    });
  }
});
