/**
 * The browser client syncs two devices through go-oversync's own example server (commit 1f1118f,
 * built from the shared source, `interop/go-server`), called cross-origin as an app would (the
 * example allows it with CORS). Device A seeds rows of every value family (BLOB keys, a BIGINT at
 * 2^53 - 1, a REAL needing 17 digits, text with `& < >` U+2028, a nanosecond timestamp), device B
 * hydrates them, both edit and converge, and PostgreSQL holds the same values.
 * Without go-oversync the spec is skipped with the instruction; under CI=true it fails.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { LOCAL_SCHEMA, LOCAL_TABLES } from '../interop/node/support/example-schema.ts';
import { peerAvailability, startGoServer } from '../interop/node/support/go-server-process.ts';
import type { GoServer } from '../interop/node/support/go-server-process.ts';
import { openTab } from './page-helpers.ts';

let server: GoServer | null = null;
let skipReason = '';

test.beforeAll(async () => {
  test.setTimeout(300_000); // the first run builds the Go server
  const { peerPath, reason } = await peerAvailability();
  if (!peerPath) {
    skipReason = reason;
    return;
  }
  server = await startGoServer(peerPath);
});
test.afterAll(async () => {
  await server?.close();
});

const TEXT = 'a & <b> \u2028 "q" 😀';

async function openDevice(page: Page, name: string, token: string): Promise<void> {
  await page.evaluate(
    async ({ name, token, serverUrl, migrations, tables }) => {
      await window.harness.open({
        name,
        schema: { version: 1, migrations: [migrations] },
        sync: { serverUrl, remoteSchema: 'business', tables, getToken: async () => token },
      });
    },
    { name, token, serverUrl: server!.baseUrl, migrations: LOCAL_SCHEMA, tables: LOCAL_TABLES },
  );
}

const READ_ALL = `SELECT 'typed' AS t, id, name, CAST(count_value AS TEXT) AS n, rating, hex(data) AS data, created_at AS ts FROM typed_rows
  UNION ALL SELECT 'file', hex(id), name, NULL, NULL, hex(data), NULL FROM files
  UNION ALL SELECT 'review', hex(id), review, hex(file_id), NULL, NULL, NULL FROM file_reviews ORDER BY 1, 2`;

test("two browser devices sync through go-oversync's example server", async ({ browser }) => {
  test.skip(server === null, skipReason);
  test.setTimeout(120_000);
  const user = `browser-${Date.now()}`;
  const token = await server!.token(user);

  const ctxA = await browser.newContext();
  const a = await openTab(ctxA);
  await openDevice(a, 'go-a', token);
  const seeded = await a.evaluate(
    async ({ user, text }) => {
      const db = window.harness.db('go-a');
      const attached = await db.sync.attach(user);
      await db.transaction([
        {
          sql: `INSERT INTO typed_rows(id, name, count_value, enabled_flag, rating, data, created_at) VALUES (?, ?, 9007199254740991, 1, 0.1 + 0.2, x'00ff', '2026-01-02T03:04:05.123456789Z')`,
          params: ['00000000-0000-4000-8000-000000000001', text],
        },
        {
          sql: `INSERT INTO typed_rows(id, name, count_value, enabled_flag) VALUES ('00000000-0000-4000-8000-000000000002', 'second', -5, 0)`,
        },
        { sql: `INSERT INTO files(id, name, data) VALUES (x'00000000000040008000000000000010', 'f.bin', x'0102')` },
        {
          sql: `INSERT INTO file_reviews(id, review, file_id) VALUES (x'00000000000040008000000000000011', ?, x'00000000000040008000000000000010')`,
          params: [text],
        },
      ]);
      const result = await db.sync.sync();
      return { attached, push: result.push, status: db.sync.status.get() };
    },
    { user, text: TEXT },
  );
  expect(seeded.attached).toMatchObject({ status: 'connected', outcome: 'started_empty' });
  expect(seeded.push).toMatchObject({ outcome: 'committed', rowCount: 4 });
  expect(seeded.status).toMatchObject({ pendingCount: 0 });

  const ctxB = await browser.newContext();
  const b = await openTab(ctxB);
  await openDevice(b, 'go-b', token);
  const hydrated = await b.evaluate(async (user) => window.harness.db('go-b').sync.attach(user), user);
  expect(hydrated).toMatchObject({ status: 'connected', outcome: 'used_remote_state', snapshotRows: 4 });
  const read = (page: Page, name: string) =>
    page.evaluate(async ({ name, sql }) => window.harness.db(name).query(sql), { name, sql: READ_ALL });
  const rowsA = await read(a, 'go-a');
  expect(await read(b, 'go-b')).toEqual(rowsA);
  expect(rowsA).toContainEqual({
    t: 'typed',
    id: '00000000-0000-4000-8000-000000000001',
    name: TEXT,
    n: '9007199254740991',
    rating: 0.30000000000000004,
    data: '00FF',
    ts: '2026-01-02T03:04:05.123457+00:00',
  });

  // Both edit, then sync in turn: A, B, A.
  await b.evaluate(async () => {
    const db = window.harness.db('go-b');
    await db.exec(
      `UPDATE typed_rows SET count_value = -9007199254740991, rating = -1e-7 WHERE id = '00000000-0000-4000-8000-000000000002'`,
    );
    await db.exec(`DELETE FROM files WHERE id = x'00000000000040008000000000000010'`);
  });
  await a.evaluate(async () =>
    window.harness.db('go-a').exec(`UPDATE typed_rows SET name = 'edited on A' WHERE id = '00000000-0000-4000-8000-000000000001'`),
  );
  for (const [page, name] of [
    [a, 'go-a'],
    [b, 'go-b'],
    [a, 'go-a'],
  ] as const) {
    await page.evaluate(async (n) => window.harness.db(n).sync.sync(), name);
  }
  const finalA = await read(a, 'go-a');
  expect(await read(b, 'go-b')).toEqual(finalA);
  expect(finalA.filter((r) => r.t !== 'typed')).toEqual([]); // the file and (cascade) its review are gone
  expect(finalA.map((r) => [r.name, r.n, r.rating])).toEqual([
    ['edited on A', '9007199254740991', 0.30000000000000004],
    ['second', '-9007199254740991', -1e-7],
  ]);

  const pg = await server!.pg.query(
    'SELECT name, count_value::text AS n, rating FROM business.typed_rows WHERE _sync_scope_id = $1 ORDER BY id',
    [user],
  );
  expect(pg.rows).toEqual([
    { name: 'edited on A', n: '9007199254740991', rating: 0.30000000000000004 },
    { name: 'second', n: '-9007199254740991', rating: -1e-7 },
  ]);
  expect((await server!.pg.query('SELECT count(*)::int AS c FROM business.files WHERE _sync_scope_id = $1', [user])).rows).toEqual([
    { c: 0 },
  ]);
  await ctxA.close();
  await ctxB.close();
});
