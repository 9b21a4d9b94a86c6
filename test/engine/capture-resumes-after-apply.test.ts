/**
 * Capture is switched off only for the duration of one sync-applied transaction: after a
 * successful apply and after a failed one (rolled back), the app's next write is captured again.
 * Sync-applied rows themselves never appear as dirty rows. (push/behavior/apply.json:
 * successful-replay-restores-capture…, failed-replay-rollback-restores-capture….)
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { rows } from './support/sqlite.ts';

const SCHEMA = `
CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
CREATE TABLE posts (id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED, title TEXT NOT NULL);`;
const TABLES = [
  { table: 'users', syncKey: 'id' },
  { table: 'posts', syncKey: 'id' },
];

it('captures local writes again after a successful and after a failed apply', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  s.server.on('GET', '/sync/pull', {
    status: 200,
    body: {
      stable_bundle_seq: 1,
      has_more: false,
      bundles: [
        {
          bundle_seq: 1,
          source_id: 'x',
          source_bundle_id: 1,
          rows: [
            { schema: 'main', table: 'users', key: { id: 'remote' }, op: 'INSERT', row_version: 1, payload: { id: 'remote', name: 'R' } },
          ],
        },
      ],
    },
  });
  await s.engine.pullToStable();
  expect(rows(s.db, 'SELECT key_json FROM _sync_dirty_rows')).toEqual([]);
  s.db.exec("INSERT INTO users VALUES ('local-1', 'L1')");
  expect(rows(s.db, 'SELECT key_json FROM _sync_dirty_rows')).toEqual([{ key_json: '{"id":"local-1"}' }]);

  s.server.on('GET', '/sync/pull', {
    status: 200,
    body: {
      stable_bundle_seq: 2,
      has_more: false,
      bundles: [
        {
          bundle_seq: 2,
          source_id: 'x',
          source_bundle_id: 2,
          rows: [
            {
              schema: 'main',
              table: 'posts',
              key: { id: 'p' },
              op: 'INSERT',
              row_version: 2,
              payload: { id: 'p', user_id: 'nobody', title: 't' },
            },
          ],
        },
      ],
    },
  });
  await expect(s.engine.pullToStable()).rejects.toMatchObject({ code: 'apply_failed' });
  s.db.exec("INSERT INTO users VALUES ('local-2', 'L2')");
  expect(rows(s.db, 'SELECT key_json FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
    { key_json: '{"id":"local-1"}' },
    { key_json: '{"id":"local-2"}' },
  ]);
  expect(s.db.selectValue('SELECT _sync_capture_enabled()')).toBe(1);
});
