/**
 * Config validation at open, data-driven from `local-schema/config-validation.json`.
 * Mappings (our API and layout differ on purpose):
 * - `syncTables[].syncKeyColumnName` → `tables[].syncKey`; `syncKeyColumns: [a, b]` → `syncKey: a`
 *   (our API names one key; the composite PRIMARY KEY is still what gets rejected).
 * - the KMP message fragment "syncKeyColumnName or syncKeyColumns explicitly" names KMP's config
 *   fields; ours says "sync key column explicitly".
 * - `_sync_apply_state` does not exist here (capture suppression is a SQL function), so
 *   "apply-state-installed" checks that `_sync_capture_enabled()` answers 1, and the apply-mode
 *   statements run under `withCaptureSuppressed`.
 * Every rejection must be a `SyncError` with code `config_invalid` and must leave the database as
 * it was (no `_sync_*` residue; earlier runtime state preserved).
 */
import { describe, expect, it } from 'vitest';
import { SyncEngine, SyncError } from '../../worker/engine/index.ts';
import { withCaptureSuppressed } from '../../worker/engine/capture.ts';
import { loadContract } from '../contracts.ts';
import { memoryDb } from './support/sqlite.ts';

interface Case {
  name: string;
  schemaSql: string[];
  config: { schema: string; syncTables: { tableName: string; syncKeyColumnName?: string; syncKeyColumns?: string[] }[] };
  initializeBeforeValidation?: boolean;
  beforeValidationSql?: string[];
  afterOpenSql?: string[];
  expectedError: { kind: string; messageContains: string[] } | null;
  expectedQueries?: { name: string; sql: string; value: unknown }[];
}

const MESSAGE_MAP: Record<string, string> = {
  'syncKeyColumnName or syncKeyColumns explicitly': 'sync key column explicitly',
};

const QUERY_MAP: Record<string, string> = {
  "SELECT COUNT(*) FROM sqlite_master WHERE name = '_sync_apply_state'": 'SELECT _sync_capture_enabled()',
};

function run(db: import('@sqlite.org/sqlite-wasm').Database, sql: string[]): void {
  let batch: string[] | null = null;
  for (const s of sql) {
    if (/SET apply_mode = 1/.test(s)) batch = [];
    else if (/SET apply_mode = 0/.test(s)) {
      const b = batch ?? [];
      withCaptureSuppressed(db, () => b.forEach((x) => db.exec(x)));
      batch = null;
    } else if (batch) batch.push(s);
    else db.exec(s);
  }
}

const fixture = loadContract<{ cases: Case[] }>('local-schema/config-validation.json');

describe('config validation (local-schema/config-validation.json)', () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const { sqlite3, db } = await memoryDb(c.schemaSql.join(';\n'));
      const open = () =>
        SyncEngine.open({
          sqlite3,
          db,
          remoteSchema: c.config.schema,
          tables: c.config.syncTables.map((t) => ({ table: t.tableName, syncKey: t.syncKeyColumnName ?? t.syncKeyColumns?.[0] ?? '' })),
          serverUrl: 'https://sync.test/',
          getToken: async () => null,
          fetch: async () => {
            throw new Error('no network expected');
          },
        });
      if (c.initializeBeforeValidation) {
        await open();
        run(db, c.beforeValidationSql ?? []);
      }
      if (c.expectedError) {
        const err = await open().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(SyncError);
        expect((err as SyncError).code).toBe('config_invalid');
        for (const fragment of c.expectedError.messageContains) {
          expect((err as SyncError).message).toContain(MESSAGE_MAP[fragment] ?? fragment);
        }
      } else {
        await open();
        run(db, c.afterOpenSql ?? []);
      }
      for (const q of c.expectedQueries ?? []) {
        const v = db.selectValue(QUERY_MAP[q.sql] ?? q.sql);
        expect(typeof v === 'bigint' || typeof v === 'number' ? Number(v) : v, q.name).toEqual(q.value);
      }
    });
  }
});
