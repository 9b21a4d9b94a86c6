/**
 * Tables keyed by a BLOB UUID (16 raw bytes locally) push their keys and BLOB foreign keys as
 * canonical dashed UUIDs: in the frozen outbox (`wire_key_json`), in the chunk rows, and in the
 * request hash the server can recompute. Replay records the version under the local hex key_json,
 * and a bundle committed as pushed is not read back.
 */
import { expect, it } from 'vitest';
import { pushRequestHash } from '../../protocol/index.ts';
import type { PushRow } from '../../protocol/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = `
CREATE TABLE parents (id BLOB PRIMARY KEY NOT NULL, label TEXT);
CREATE TABLE kids (id BLOB PRIMARY KEY NOT NULL, parent_id BLOB REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED, note TEXT);`;
const TABLES = [
  { table: 'parents', syncKey: 'id' },
  { table: 'kids', syncKey: 'id' },
];
const P = '0123abcd-0000-4000-8000-00000000000a';
const K = 'fedcba98-7654-4321-8fed-cba987654321';
const hex = (u: string) => u.replace(/-/g, '');

it('pushes BLOB UUID keys and references as dashed UUIDs', async () => {
  const s = await openEngine(SCHEMA, TABLES, { retry: { attempts: 1 } });
  await attachStartedEmpty(s);
  // The first push freezes and then finds the server unreachable: the outbox carries the wire keys.
  s.server.on('POST', '/sync/push-sessions', () => Promise.reject(new TypeError('offline')));
  const server = new PushResponder();
  server.install(s.server);
  s.db.exec(
    `INSERT INTO parents VALUES (unhex('${hex(P)}'), 'p'); INSERT INTO kids VALUES (unhex('${hex(K).toUpperCase()}'), unhex('${hex(P)}'), 'k')`,
  );
  await expect(s.engine.pushPending()).rejects.toMatchObject({ code: 'network_error' });
  expect(rows(s.db, 'SELECT table_name, key_json, wire_key_json FROM _sync_outbox_rows ORDER BY row_ordinal')).toEqual([
    { table_name: 'parents', key_json: `{"id":"${hex(P)}"}`, wire_key_json: `{"id":"${P}"}` },
    { table_name: 'kids', key_json: `{"id":"${hex(K)}"}`, wire_key_json: `{"id":"${K}"}` },
  ]);

  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 2 });
  const chunk = s.server.requestsTo('POST', /\/chunks$/)[0]!.body as { rows: PushRow[] };
  expect(chunk.rows).toEqual([
    { schema: 'main', table: 'parents', key: { id: P }, op: 'INSERT', base_row_version: 0, payload: { id: P, label: 'p' } },
    { schema: 'main', table: 'kids', key: { id: K }, op: 'INSERT', base_row_version: 0, payload: { id: K, parent_id: P, note: 'k' } },
  ]);
  const create = s.server.requestsTo('POST', '/sync/push-sessions').at(-1)!.body as { canonical_request_hash: string };
  expect(create.canonical_request_hash).toBe(await pushRequestHash(chunk.rows));
  expect(s.server.requestsTo('GET', /\/committed-bundles\//)).toEqual([]);
  expect(rows(s.db, 'SELECT table_name, key_json, row_version FROM _sync_row_state ORDER BY table_name')).toEqual([
    { table_name: 'kids', key_json: `{"id":"${hex(K)}"}`, row_version: 1 },
    { table_name: 'parents', key_json: `{"id":"${hex(P)}"}`, row_version: 1 },
  ]);
  expect(scalar(s.db, 'SELECT hex(parent_id) FROM kids')).toBe(hex(P).toUpperCase());
});
