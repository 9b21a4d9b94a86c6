/**
 * The push path builds the request-hash material and the chunk bodies by splicing per-row
 * canonical texts (worker/engine/wire-text.ts). They must be byte-identical to what
 * `protocol/hashes.ts` computes from wire objects, for every value family and for awkward values:
 * unicode, control characters, quotes, nested JSON with unsorted members, digit-only column names,
 * NULLs, deletes, BLOB (UUID) keys. A downloaded committed bundle is hashed by the protocol module
 * itself; its payloads' canonical texts must equal the pushed texts (the replay compares them).
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, pushRequestHash } from '../../protocol/index.ts';
import type { PushRow, WireOp } from '../../protocol/index.ts';
import { keyJsonToWire, localPayloadToWire } from '../../worker/engine/codec.ts';
import { loadSchemaModel } from '../../worker/engine/table-config.ts';
import type { TableModel } from '../../worker/engine/table-config.ts';
import type { SyncedTable } from '../../worker/engine/types.ts';
import { encodeLocalPayload, keyTextOfKeyJson, pushBodyRow, pushRequestHashOf, tableNameText } from '../../worker/engine/wire-text.ts';
import type { PushRowText } from '../../worker/engine/wire-text.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { rows as queryRows } from './support/sqlite.ts';
import { dirtyRowsSql } from './support/pending-changes.ts';

const SCHEMA = `
CREATE TABLE docs (id TEXT PRIMARY KEY NOT NULL, title TEXT, n INTEGER, ok BOOLEAN, ratio REAL, price DECIMAL(10,2), meta TEXT, raw BLOB, at TIMESTAMP, "2nd" TEXT, a_b TEXT);
CREATE TABLE things (id BLOB PRIMARY KEY NOT NULL, doc_id TEXT REFERENCES docs(id) DEFERRABLE INITIALLY DEFERRED, label TEXT);`;
const TABLES: SyncedTable[] = [
  { table: 'docs', syncKey: 'id', columns: { meta: 'json' } },
  { table: 'things', syncKey: 'id', columns: { id: 'uuid' } },
];

const AWKWARD = [
  '',
  'plain',
  'quote " and \\ backslash',
  'ctl \u0001\b\t\n\f\r\u001f end',
  'del \u007f',
  'line sep \u2028 \u2029',
  'émoji 😀 中文',
  '</script>',
];

async function captured() {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  const ins = s.db.prepare('INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  AWKWARD.forEach((text, i) => {
    ins
      .bind([
        `d${i} ${text}`,
        text,
        i % 3 === 0 ? null : i % 3 === 1 ? -9223372036854775808n : 9007199254740993n,
        i % 2,
        i % 3 === 0 ? null : [0.1 + 0.2, -1.5e-300, 1e21, 3][i % 4],
        i % 2 ? '12.50' : null,
        i % 2 ? JSON.stringify({ z: [1, 2.5, { y: text, b: null }], a: true, [text]: 1e-7 }).replace(/,/g, ', ') : null,
        i % 2 ? new Uint8Array([0, 255, i, 16]) : null,
        i % 2 ? '2024-05-01T10:00:00.123+02:00' : null,
        text,
        text.toUpperCase(),
      ])
      .stepReset();
  });
  ins.finalize();
  s.db.exec(`INSERT INTO things VALUES (unhex('0123456789abcdef0123456789ABCDEF'), 'd1 plain', 'x');
             INSERT INTO things VALUES (unhex('00000000000040008000000000000001'), NULL, NULL);`);
  const model = loadSchemaModel(s.db, TABLES);
  const dirty = queryRows(s.db, dirtyRowsSql(s.db, TABLES, 'd.table_name, d.key_json'));
  return { model, dirty };
}

function both(t: TableModel, keyJson: string, op: WireOp, base: number, payload: string | null): { text: PushRowText; wire: PushRow } {
  const wire: PushRow = { schema: 'main', table: t.table, key: keyJsonToWire(t, keyJson), op, base_row_version: base };
  if (payload !== null) wire.payload = localPayloadToWire(t, payload);
  const text: PushRowText = {
    schemaText: JSON.stringify('main'),
    tableText: tableNameText(t),
    keyText: keyTextOfKeyJson(t, keyJson),
    op,
    baseRowVersion: base,
    payloadText: payload === null ? 'null' : encodeLocalPayload(t, JSON.parse(payload) as Record<string, unknown>).payloadText,
  };
  return { text, wire };
}

describe('canonical push text', () => {
  it('request hash and chunk bodies equal the protocol functions over wire objects', async () => {
    const { model, dirty } = await captured();
    const pairs = dirty.map((d, i) => {
      const t = model.byName.get(String(d.table_name))!;
      const op: WireOp = i === 2 ? 'DELETE' : i % 2 ? 'UPDATE' : 'INSERT';
      return both(t, String(d.key_json), op, i * 7, op === 'DELETE' ? null : String(d.payload));
    });
    expect(pairs.length).toBe(AWKWARD.length + 2);
    expect(await pushRequestHashOf(pairs.map((p) => p.text))).toBe(await pushRequestHash(pairs.map((p) => p.wire)));
    for (const p of pairs) {
      const out: string[] = [];
      pushBodyRow(out, p.text);
      expect(JSON.parse(out.join(''))).toEqual(p.wire);
    }
  });

  it("a committed row's canonical payload text is the pushed payload text", async () => {
    // The replay compares the two to skip rewriting rows the server committed as pushed.
    const { model, dirty } = await captured();
    for (const d of dirty) {
      const t = model.byName.get(String(d.table_name))!;
      const local = String(d.payload);
      expect(canonicalJson(localPayloadToWire(t, local))).toBe(
        encodeLocalPayload(t, JSON.parse(local) as Record<string, unknown>).payloadText,
      );
    }
  });
});
