/**
 * Writes test/fixtures/client-metadata/v<N>.sql: a local database as this engine leaves it at
 * metadata layout version N (attached, two synced rows, one of them edited, one new row pending),
 * as SQL text. Run it once per release whose metadata layout changed
 * (`npx tsx scripts/dump-client-metadata.ts`); the layout test opens the current engine on the
 * dump of the current version and refuses those of the pre-release ones (1–4).
 */
import { writeFileSync } from 'node:fs';
import { METADATA_VERSION } from '../worker/engine/metadata.ts';
import { CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES } from '../test/engine/support/client-layout.ts';
import { attachStartedEmpty, openEngine } from '../test/engine/support/engine.ts';
import { dumpSql } from '../test/engine/support/sql-dump.ts';

const s = await openEngine(CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES);
await attachStartedEmpty(s);
s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
s.server.on('POST', '/sync/snapshot-sessions', {
  status: 200,
  body: { snapshot_id: 's', snapshot_bundle_seq: 3, row_count: 2, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
});
s.server.on('GET', '/sync/snapshot-sessions/s', {
  status: 200,
  body: {
    snapshot_id: 's',
    snapshot_bundle_seq: 3,
    next_row_ordinal: 2,
    byte_count: 1,
    has_more: false,
    rows: [
      { schema: 'main', table: 'users', key: { id: 'a' }, row_version: 5, payload: { id: 'a', name: 'A' } },
      { schema: 'main', table: 'users', key: { id: 'b' }, row_version: 6, payload: { id: 'b', name: 'B' } },
    ],
  },
});
await s.engine.hydrate();
s.db.exec("UPDATE users SET name = 'A edited' WHERE id = 'a'; INSERT INTO users (id, name) VALUES ('c', 'C')");
await s.engine.close();
const path = `test/fixtures/client-metadata/v${METADATA_VERSION}.sql`;
writeFileSync(
  path,
  `-- Made by scripts/dump-client-metadata.ts at metadata layout version ${METADATA_VERSION}. Do not edit.\n${dumpSql(s.db)}`,
);
console.log(`wrote ${path}`);
