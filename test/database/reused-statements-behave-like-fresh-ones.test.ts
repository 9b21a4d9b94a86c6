/**
 * App statements are prepared once per SQL text and reused (`worker/database/statement-cache.ts`).
 * A reused statement must behave exactly like a freshly prepared one: its writes are still
 * announced (including WITHOUT ROWID tables and trigger targets, which only the authorizer sees
 * at compile time), it sees schema changes made since it was compiled, a failed run leaves it
 * usable, bindings never leak from one run into the next, and more distinct statements than the
 * cache holds all still run.
 */
import { expect, it } from 'vitest';
import type { CommitNotice } from '../../worker/database/table-access.ts';
import { openMemory } from './open-memory.ts';

const write = (sql: string, params?: unknown[]) => ({ statements: [{ sql, params: params as never }] });

it('announces the writes of a reused statement, WITHOUT ROWID tables and trigger targets included', async () => {
  const db = await openMemory();
  const notices: CommitNotice[] = [];
  db.onCommit((n) => notices.push(n));
  const insertProject = 'INSERT INTO projects (id, name) VALUES (?, ?)';
  const insertTask = 'INSERT INTO tasks (title, project_id) VALUES (?, ?)';
  for (let i = 0; i < 3; i++) {
    expect((await db.write(write(insertProject, [`p${i}`, `P${i}`]))).ok).toBe(true);
    expect((await db.write(write(insertTask, [`t${i}`, `p${i}`]))).ok).toBe(true);
  }
  expect(notices.map((n) => n.tables)).toEqual([
    ['projects'],
    ['audit', 'tasks'],
    ['projects'],
    ['audit', 'tasks'],
    ['projects'],
    ['audit', 'tasks'],
  ]);
  db.close();
});

it('sees schema changes made after the statement was first compiled', async () => {
  const db = await openMemory();
  await db.write(write("INSERT INTO projects (id, name) VALUES ('p', 'P')"));
  const select = 'SELECT * FROM projects';
  expect(unwrap(db.query(select)).columns).toEqual(['id', 'name']);
  db.connection.exec("ALTER TABLE projects ADD COLUMN color TEXT DEFAULT 'red'");
  expect(unwrap(db.query(select))).toEqual({ columns: ['id', 'name', 'color'], rows: [{ id: 'p', name: 'P', color: 'red' }] });
  db.close();
});

it('stays usable after a run that failed, and never carries bindings into the next run', async () => {
  const db = await openMemory();
  const insert = 'INSERT INTO projects (id, name) VALUES (?, ?)';
  expect((await db.write(write(insert, ['a', 'A']))).ok).toBe(true);
  const dup = await db.write(write(insert, ['b', 'A']));
  expect(dup.ok).toBe(false);
  expect((await db.write(write(insert, ['c', 'C']))).ok).toBe(true);
  const update = 'UPDATE tasks SET n = ? WHERE title = ?';
  await db.write(write("INSERT INTO tasks (title, n) VALUES ('x', 1)"));
  await db.write(write(update, [5, 'x']));
  // No parameters this time: the unbound ones are NULL, as in a fresh statement.
  await db.write(write(update));
  expect(unwrap(db.query('SELECT id, name FROM projects ORDER BY id')).rows).toEqual([
    { id: 'a', name: 'A' },
    { id: 'c', name: 'C' },
  ]);
  expect(unwrap(db.query("SELECT n FROM tasks WHERE title = 'x'")).rows).toEqual([{ n: 5 }]);
  db.close();
});

it('runs more distinct statements than the cache holds, each one correctly', async () => {
  const db = await openMemory();
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 150; i++) {
      const got = unwrap(db.query(`SELECT ${i} + ? AS v`, [round]));
      expect(got.rows).toEqual([{ v: i + round }]);
    }
  }
  db.close();
});

function unwrap<T>(outcome: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.error));
  return outcome.value;
}
