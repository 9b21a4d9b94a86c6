/**
 * The engine's cached prepared statements (`worker/engine/statements.ts`) are reused for every
 * row of every apply. A statement whose step failed (UNIQUE, NOT NULL, CHECK, …) must be reset
 * like any other: before, `runCached` left it mid-step, so its next use failed with
 * SQLITE_MISUSE and every later apply touching that table failed until the engine was reopened.
 */
import { expect, it } from 'vitest';
import { runCached, selectCached } from '../../worker/engine/statements.ts';
import { memoryDb, rows } from './support/sqlite.ts';

it('runs a cached statement again after one of its runs hit a constraint', async () => {
  const { db } = await memoryDb('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0))');
  const insert = 'INSERT INTO t (id, n) VALUES (?, ?)';
  runCached(db, insert, ['a', 1]);
  expect(() => runCached(db, insert, ['a', 2])).toThrow(/UNIQUE/);
  expect(() => runCached(db, insert, ['b', -1])).toThrow(/CHECK/);
  expect(() => runCached(db, insert, ['c', null])).toThrow(/NOT NULL/);
  runCached(db, insert, ['d', 4]);
  expect(rows(db, 'SELECT id, n FROM t ORDER BY id')).toEqual([
    { id: 'a', n: 1 },
    { id: 'd', n: 4 },
  ]);
  expect(selectCached(db, 'SELECT n FROM t WHERE id = ?', ['d'])).toBe(4);
});
