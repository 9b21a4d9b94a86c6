/**
 * The row-change hook names each written row's table (`table-access.ts`). It keeps the last
 * table's name and compares the bytes at the reported address instead of decoding them each time:
 * rows of reused statements alternating between tables, and of a table created after a drop with a
 * name of the same length (it may get the dropped one's address), each go under their own name.
 */
import { expect, it } from 'vitest';
import type { CommitNotice } from '../../worker/database/table-access.ts';
import { openMemory } from './open-memory.ts';

it('announces rows of reused statements, and of a same-length table made after a drop, under their own names', async () => {
  const db = await openMemory();
  const notices: CommitNotice[] = [];
  db.onCommit((n) => notices.push(n));
  const c = db.connection;
  const note = c.prepare('INSERT INTO audit (what) VALUES (?)');
  const task = c.prepare('INSERT INTO tasks (title) VALUES (?)');
  const settle = () => Promise.resolve();
  try {
    c.transaction(() => {
      for (let i = 0; i < 3; i++) note.bind([`a${i}`]).stepReset();
    });
    await settle();
    // Reused after their first commit: only the row hook reports them now.
    c.transaction(() => {
      for (let i = 0; i < 3; i++) task.bind([`t${i}`]).stepReset();
    });
    await settle();
    c.transaction(() => {
      note.bind(['again']).stepReset();
    });
    await settle();
  } finally {
    note.finalize();
    task.finalize();
  }
  c.exec('DROP TRIGGER tasks_audit; DROP TABLE audit; CREATE TABLE audix (id INTEGER PRIMARY KEY, what TEXT)');
  await settle();
  c.transaction(() => {
    for (let i = 0; i < 3; i++) c.exec({ sql: 'INSERT INTO audix (what) VALUES (?)', bind: [`x${i}`] });
  });
  await settle();
  // Preparing outside a transaction and dropping a table announce their tables too (over-reports).
  expect(notices.map((n) => n.tables)).toEqual([['audit', 'tasks'], ['audit', 'tasks'], ['audit'], ['audit'], ['audix']]);
  db.close();
});
