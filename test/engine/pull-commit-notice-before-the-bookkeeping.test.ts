/**
 * A pulled bundle's commit notice (what live queries re-run on) goes out right after the apply's
 * COMMIT, before the pull's bookkeeping after it (the progress status, the checkpoint and settle
 * reads): a live query's re-run request then waits on that work at most, not on it plus its own
 * round trip. Observed with the runtime's commit monitor on the engine's connection and SQLite's
 * statement trace: when the notice arrives, the last statement SQLite ran is the COMMIT.
 */
import { expect, it } from 'vitest';
import { TableAccessMonitor } from '../../worker/database/table-access.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';

it('announces the pulled commit before any statement after it', async () => {
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [{ table: 'users', syncKey: 'id' }]);
  await attachStartedEmpty(s);
  const statements: string[] = [];
  const { capi, wasm } = s.sqlite3;
  const trace = wasm.installFunction('iippp', (_type: number, _ctx: number, stmt: number) => {
    statements.push(capi.sqlite3_sql(stmt) ?? '');
    return 0;
  });
  (capi.sqlite3_trace_v2 as unknown as (...args: unknown[]) => number)(s.db.pointer!, capi.SQLITE_TRACE_STMT, trace, 0);
  const monitor = new TableAccessMonitor(s.sqlite3, s.db);
  const atNotice: { tables: readonly string[]; last: string; count: number }[] = [];
  monitor.onCommit((notice) => atNotice.push({ tables: notice.tables, last: statements.at(-1)!, count: statements.length }));
  s.server.on('GET', '/sync/pull', {
    status: 200,
    body: {
      stable_bundle_seq: 1,
      has_more: false,
      bundles: [
        {
          bundle_seq: 1,
          source_id: 'other',
          source_bundle_id: 1,
          rows: [{ schema: 'main', table: 'users', key: { id: 'u1' }, op: 'INSERT', row_version: 1, payload: { id: 'u1', name: 'Ada' } }],
        },
      ],
    },
  });
  const result = await s.engine.pullToStable();
  expect(result).toMatchObject({ outcome: 'applied_incremental', rowsApplied: 1 });
  expect(atNotice).toHaveLength(1);
  expect(atNotice[0]).toMatchObject({ tables: ['users'], last: 'COMMIT' });
  expect(statements.length).toBeGreaterThan(atNotice[0]!.count); // the bookkeeping ran after it
  await s.engine.close();
});
