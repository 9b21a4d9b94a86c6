/**
 * Capture and collapse, data-driven from `local-schema/<fixture>/write-transitions*.json`.
 * Mapping: the fixtures switch capture off with `UPDATE _sync_apply_state SET apply_mode = …`;
 * our engine has no such row (capture is suppressed by a connection-local SQL function), so the
 * statements between `apply_mode = 1` and `apply_mode = 0` run under `withCaptureSuppressed`.
 * Payload values are compared after decoding both JSON texts, with REAL values compared as
 * numbers: our triggers keep REAL as a JSON number (SQLite renders it shortest-round-trip), where
 * KMP stores the canonical string; both become the same wire string.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SyncEngine } from '../../worker/engine/index.ts';
import { withCaptureSuppressed } from '../../worker/engine/capture.ts';
import { CONTRACTS_DIR, loadContract } from '../contracts.ts';
import { memoryDb, rows } from './support/sqlite.ts';
import { dirtyRowsSql } from './support/pending-changes.ts';

interface Transition {
  name: string;
  setupSql: string[];
  actionSql: string[];
}
interface ExpectedRow {
  schemaName: string;
  tableName: string;
  keyJson: string;
  op: string;
  baseRowVersion: number;
  payload: string | null;
  dirtyOrdinal: number;
}

function runStatements(db: import('@sqlite.org/sqlite-wasm').Database, sql: string[]): void {
  let suppressed: string[] | null = null;
  for (const s of sql) {
    if (/UPDATE _sync_apply_state SET apply_mode = 1/.test(s)) suppressed = [];
    else if (/UPDATE _sync_apply_state SET apply_mode = 0/.test(s)) {
      const batch = suppressed ?? [];
      withCaptureSuppressed(db, () => batch.forEach((b) => db.exec(b)));
      suppressed = null;
    } else if (suppressed) suppressed.push(s);
    else db.exec(s);
  }
}

function normalizePayload(p: string | null): unknown {
  if (p === null) return null;
  const o = JSON.parse(p) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]));
}

for (const fixture of ['basic-sync', 'blob-sync', 'cascade-sync', 'business-rich-v0']) {
  describe(`write transitions: ${fixture}`, () => {
    const dir = `local-schema/${fixture}`;
    const schemaSql = readFileSync(join(CONTRACTS_DIR, dir, 'schema.sql'), 'utf8');
    const config = loadContract<{ schema: string; syncTables: { tableName: string; syncKeyColumnName: string }[] }>(`${dir}/config.json`);
    const transitions = loadContract<{ applicationTables: string[]; cases: Transition[] }>(`${dir}/write-transitions.json`);
    const expected = loadContract<{ cases: { name: string; dirtyRows: ExpectedRow[]; applicationRowCounts: Record<string, number> }[] }>(
      `${dir}/write-transitions.expected.json`,
    );
    for (const c of transitions.cases) {
      it(c.name, async () => {
        const { sqlite3, db } = await memoryDb(schemaSql);
        await SyncEngine.open({
          sqlite3,
          db,
          remoteSchema: config.schema,
          tables: config.syncTables.map((t) => ({ table: t.tableName, syncKey: t.syncKeyColumnName })),
          serverUrl: 'https://sync.test/',
          getToken: async () => null,
          fetch: async () => {
            throw new Error('no network expected');
          },
        });
        runStatements(db, c.setupSql);
        // Setup writes are not part of the transition: only the action's effect is compared,
        // except where the fixture's setup itself is captured (then the expected rows include it).
        runStatements(db, c.actionSql);
        const exp = expected.cases.find((e) => e.name === c.name)!;
        const actual = rows(
          db,
          dirtyRowsSql(
            db,
            config.syncTables.map((t) => ({ table: t.tableName, syncKey: t.syncKeyColumnName })),
            'd.schema_name, d.table_name, d.key_json, d.op, d.base_row_version, d.dirty_ordinal',
          ),
        );
        expect(
          actual.map((r) => ({
            schemaName: r.schema_name,
            tableName: r.table_name,
            keyJson: r.key_json,
            op: r.op,
            baseRowVersion: Number(r.base_row_version),
            payload: normalizePayload(r.payload as string | null),
            dirtyOrdinal: Number(r.dirty_ordinal),
          })),
        ).toEqual(exp.dirtyRows.map((e) => ({ ...e, payload: normalizePayload(e.payload) })));
        for (const [table, count] of Object.entries(exp.applicationRowCounts)) {
          expect(Number(db.selectValue(`SELECT COUNT(*) FROM ${table}`))).toBe(count);
        }
      });
    }
  });
}
