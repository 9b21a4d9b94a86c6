/**
 * A snapshot whose chunks run past the session's announced `row_count` is rejected at the first
 * such chunk (`bad_server_response`), before it is staged and without asking for more; a snapshot
 * that ends short of the count is rejected too. Nothing is applied either way.
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const user = (n: number) => ({
  schema: 'main',
  table: 'users',
  key: { id: `u${n}` },
  row_version: n,
  payload: { id: `u${n}`, name: `n${n}` },
});

describe('row count announced by the session', () => {
  for (const [name, announced, served, message] of [
    ['more rows than announced', 3, 6, 'chunk ends at row 4, session announced 3'],
    ['fewer rows than announced', 5, 2, 'staged 2 rows, session announced 5'],
  ] as const) {
    it(name, async () => {
      const s = await openEngine(SCHEMA, [{ table: 'users', syncKey: 'id' }], { snapshotChunkRows: 2, retry: { attempts: 1 } });
      await attachStartedEmpty(s);
      s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
      s.server.on('POST', '/sync/snapshot-sessions', {
        status: 200,
        body: { snapshot_id: 'c', snapshot_bundle_seq: 7, row_count: announced, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
      });
      const all = Array.from({ length: served }, (_, i) => user(i + 1));
      s.server.always('GET', '/sync/snapshot-sessions/c', (req) => {
        const after = Number(req.query.after_row_ordinal);
        const part = all.slice(after, after + Number(req.query.max_rows));
        return {
          status: 200,
          body: {
            snapshot_id: 'c',
            snapshot_bundle_seq: 7,
            rows: part,
            next_row_ordinal: after + part.length,
            byte_count: 1,
            has_more: after + part.length < served,
          },
        };
      });
      const err = await s.engine.hydrate().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'bad_server_response' });
      expect((err as Error).message).toContain(message);
      expect(scalar(s.db, 'SELECT COUNT(*) FROM users')).toBe(0);
      expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state')).toBe(0);
      expect(scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state')).toBe(0);
      if (served > announced)
        expect(s.server.requestsTo('GET', '/sync/snapshot-sessions/c').map((r) => r.query.after_row_ordinal)).toEqual(['0', '2']);
    });
  }
});
