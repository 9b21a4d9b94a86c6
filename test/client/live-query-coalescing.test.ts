/**
 * Live queries re-run only for tables they read, and a storm of commit notices while a run is
 * in flight causes one more run, not one per notice. Real SQLite underneath.
 */
import { describe, expect, it } from 'vitest';
import { LiveQueryRun } from '../../src/live-query.ts';
import { OversqliteError } from '../../worker/database/errors.ts';
import type { CommitNotice } from '../../worker/database/table-access.ts';
import type { Row } from '../../worker/database/types.ts';
import { openMemory } from '../database/open-memory.ts';

describe('live query coalescing', () => {
  it('1,000 notices during a run cause exactly one more run, with the latest rows', async () => {
    const db = await openMemory();
    const notices: CommitNotice[] = [];
    db.onCommit((n) => notices.push(n));
    let runs = 0;
    const results: Row[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const live = new LiveQueryRun(
      async (sql, params) => {
        runs++;
        if (runs === 2) await gate; // hold the second run open while the storm arrives
        return db.watchedQuery(sql, params);
      },
      'SELECT count(*) AS c FROM tasks',
      undefined,
      (rows) => results.push(rows),
      (e) => {
        throw e;
      },
    );
    live.refresh();
    await expect.poll(() => results.length).toBe(1);
    expect(live.tables).toEqual(['tasks']);

    for (let i = 0; i < 1000; i++) {
      await db.write({ statements: [{ sql: 'INSERT INTO tasks (title) VALUES (?)', params: [`t${i}`] }] });
      if (live.concerns(notices.at(-1)!)) live.refresh();
    }
    expect(notices).toHaveLength(1000);
    release();
    await expect.poll(() => results.length).toBe(3);
    expect(runs).toBe(3);
    expect(results.at(-1)).toEqual([{ c: 1000 }]);
    db.close();
  });

  it('ignores notices for tables it does not read, and reports errors typed', async () => {
    const db = await openMemory();
    const errors: OversqliteError[] = [];
    let runs = 0;
    const live = new LiveQueryRun(
      async (sql) => {
        runs++;
        return db.watchedQuery(sql);
      },
      'SELECT title FROM tasks',
      undefined,
      () => {},
      (e) => errors.push(e),
    );
    live.refresh();
    await expect.poll(() => runs).toBe(1);
    await expect.poll(() => live.tables.length).toBe(1);
    expect(live.concerns({ tables: ['projects'], seq: 1 })).toBe(false);
    expect(live.concerns({ tables: ['audit', 'tasks'], seq: 2 })).toBe(true);
    const broken = new LiveQueryRun(
      async (sql) => db.watchedQuery(sql),
      'SELECT nope FROM tasks',
      undefined,
      () => {},
      (e) => errors.push(e),
    );
    broken.refresh();
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toBeInstanceOf(OversqliteError);
    expect(errors[0]!.code).toBe('sql_error');
    db.close();
  });
});
