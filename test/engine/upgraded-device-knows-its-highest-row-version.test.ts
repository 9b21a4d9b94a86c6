/**
 * Layout 4 drops `_sync_row_state.updated_at` (read by nothing) and keeps the highest row version
 * the device knows in `_sync_attachment_state.known_row_version`. A device upgraded from every
 * earlier layout keeps each row version and tombstone, and starts with the bound at its highest
 * row version (a tombstone's too), so its first pull's cascade checks gate as a fresh device's.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CLIENT_LAYOUT_TABLES } from './support/client-layout.ts';
import { openEngine } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const FIXTURES = new URL('../fixtures/client-metadata/', import.meta.url);

for (const version of [1, 2, 3]) {
  it(`a v${version} device keeps its row versions without timestamps and knows the highest`, async () => {
    // The dump's row versions (a: 5, b: 6) plus a tombstone above them.
    const dump = `${readFileSync(new URL(`v${version}.sql`, FIXTURES), 'utf8')}
      INSERT INTO _sync_row_state(schema_name, table_name, key_json, row_version, deleted) VALUES ('main', 'users', '{"id":"z"}', 9, 1);`;
    const s = await openEngine(dump, CLIENT_LAYOUT_TABLES);
    try {
      expect(rows(s.db, 'SELECT name FROM pragma_table_info(?) ORDER BY cid', ['_sync_row_state']).map((c) => c.name)).toEqual([
        'schema_name',
        'table_name',
        'key_json',
        'row_version',
        'deleted',
      ]);
      expect(rows(s.db, 'SELECT schema_name, table_name, key_json, row_version, deleted FROM _sync_row_state ORDER BY key_json')).toEqual([
        { schema_name: 'main', table_name: 'users', key_json: '{"id":"a"}', row_version: 5, deleted: 0 },
        { schema_name: 'main', table_name: 'users', key_json: '{"id":"b"}', row_version: 6, deleted: 0 },
        { schema_name: 'main', table_name: 'users', key_json: '{"id":"z"}', row_version: 9, deleted: 1 },
      ]);
      expect(scalar(s.db, 'SELECT known_row_version FROM _sync_attachment_state')).toBe(9);
      expect(s.engine.status).toMatchObject({ userId: 'user-a', checkpoint: 3, pendingCount: 2 });
    } finally {
      await s.engine.close();
    }
  });
}
