/**
 * An outbox frozen by the previous engine version (0-based row ordinals, the wire payload stored
 * next to the local one, the request hash already recorded) is resumed as it stands: the rows go
 * up exactly as stored, under the recorded request hash, and the commit replays with the stored
 * values (JSON text is rewritten to the committed form, as replay always did).
 */
import { expect, it } from 'vitest';
import { pushRequestHash } from '../../protocol/index.ts';
import type { PushRow } from '../../protocol/index.ts';
import { capabilitiesBody, attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows, scalar } from './support/sqlite.ts';
import { withCaptureSuppressed } from '../../worker/engine/capture.ts';

const SCHEMA = 'CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, qty INTEGER, doc TEXT)';
const TABLES = [{ table: 'items', syncKey: 'id', columns: { doc: 'json' as const } }];

it('uploads the stored wire rows under the recorded request hash and replays them', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', TABLES) });
  const wire: PushRow[] = [
    { schema: 'main', table: 'items', key: { id: 'a' }, op: 'INSERT', base_row_version: 0, payload: { id: 'a', qty: '1', doc: { z: 1, a: [true] } } },
    { schema: 'main', table: 'items', key: { id: 'b' }, op: 'INSERT', base_row_version: 0, payload: { id: 'b', qty: null, doc: null } },
  ];
  const hash = await pushRequestHash(wire);
  const sourceId = String(scalar(s.db, 'SELECT current_source_id FROM _sync_attachment_state'));
  // What the previous version left after freezing (the app rows were captured then).
  withCaptureSuppressed(s.db, () => {
    s.db.exec(`INSERT INTO items VALUES ('a', 1, '{"z": 1, "a": [true]}'), ('b', NULL, NULL)`);
    const ins = s.db.prepare(`INSERT INTO _sync_outbox_rows(row_ordinal, schema_name, table_name, key_json, wire_key_json, op, base_row_version, local_payload, wire_payload, dirty_ordinal)
      VALUES (?, 'main', 'items', ?, ?, 'INSERT', 0, ?, ?, ?)`);
    wire.forEach((w, i) => {
      const key = JSON.stringify(w.key);
      const local = i === 0 ? '{"id":"a","qty":"1","doc":"{\\"z\\": 1, \\"a\\": [true]}"}' : '{"id":"b","qty":null,"doc":null}';
      ins.bind([i, key, key, local, JSON.stringify(w.payload), i + 1]).stepReset();
    });
    ins.finalize();
    s.db.exec({
      sql: `UPDATE _sync_outbox_bundle SET state = 'prepared', source_id = ?, user_id = 'user-a', source_bundle_id = 1,
              canonical_request_hash = ?, row_count = 2 WHERE singleton_key = 1`,
      bind: [sourceId, hash],
    });
  });
  const server = new PushResponder();
  server.install(s.server);

  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', bundleSeq: 1, rowCount: 2 });
  const create = s.server.requestsTo('POST', '/sync/push-sessions')[0]!.body as { canonical_request_hash: string; source_bundle_id: number };
  expect(create).toMatchObject({ canonical_request_hash: hash, source_bundle_id: 1 });
  expect((s.server.requestsTo('POST', /\/chunks$/)[0]!.body as { rows: PushRow[] }).rows).toEqual(wire);
  expect(rows(s.db, 'SELECT id, qty, doc FROM items ORDER BY id')).toEqual([
    { id: 'a', qty: 1, doc: '{"a":[true],"z":1}' },
    { id: 'b', qty: null, doc: null },
  ]);
  expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state WHERE row_version = 1')).toBe(2);
  expect(scalar(s.db, 'SELECT state FROM _sync_outbox_bundle')).toBe('none');
  expect(s.engine.status.pendingCount).toBe(0);
});
