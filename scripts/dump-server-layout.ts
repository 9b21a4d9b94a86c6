/**
 * Writes test/fixtures/server-layout/v<N>.sql: a PostgreSQL database as this server leaves it at
 * layout version N (sample schema, one user with two committed bundles), dumped with pg_dump.
 * Run it once per release whose layout changed (`npx tsx scripts/dump-server-layout.ts`); the
 * upgrade test restores the dump of the previous release and starts the current server on it.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { LAYOUT_VERSION } from '../server/runtime/layout.ts';
import { startSyncServer } from '../test/harness/sync-server.ts';
import { RawSyncClient } from '../test/harness/sync-client.ts';

const h = await startSyncServer({ purpose: 'layout_dump' });
try {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('layout-user'), 'layout-device');
  await dev.connect(false);
  const tag = (name: string) => ({
    schema: 'business',
    table: 'tags',
    key: { name },
    op: 'INSERT' as const,
    base_row_version: 0,
    payload: { name, weight: '1' },
  });
  for (const [i, names] of [['alpha', 'beta'], ['gamma']].entries()) {
    const r = await dev.push(i + 1, names.map(tag));
    if (r.status !== 200) throw new Error(`push ${i + 1} answered ${r.status}`);
  }
  const dump = execFileSync('pg_dump', ['--inserts', '--no-owner', '--no-privileges', '--no-comments', h.testDatabase.connectionString!], {
    encoding: 'utf8',
  });
  // psql meta-commands (`\\restrict`, with a random key) are not SQL: the test restores with a plain client.
  const sql = dump
    .split('\n')
    .filter((line) => !line.startsWith('\\'))
    .join('\n');
  const path = `test/fixtures/server-layout/v${LAYOUT_VERSION}.sql`;
  writeFileSync(path, `-- Made by scripts/dump-server-layout.ts at layout version ${LAYOUT_VERSION}. Do not edit.\n${sql}`);
  console.log(`wrote ${path} (${dump.length} characters)`);
} finally {
  await h.close();
}
