/**
 * A transaction sent from a follower tab is applied all-or-nothing by the leader, and its error
 * comes back typed.
 */
import { expect, test } from '@playwright/test';
import { openDb, openTab } from './page-helpers.ts';

test('a follower transaction is atomic and its error is typed', async ({ context }) => {
  const leader = await openTab(context);
  const follower = await openTab(context);
  await openDb(leader, 'atomic');
  expect(await openDb(follower, 'atomic')).toBe('follower');
  const outcome = await follower.evaluate(async () => {
    const db = window.harness.db('atomic');
    const ok = await db.transaction([
      { sql: 'INSERT INTO notes (id, tab, seq) VALUES (1, ?, ?)', params: ['f', 1] },
      { sql: 'INSERT INTO tags (note_id, tag) VALUES (1, ?)', params: ['first'] },
    ]);
    let error: { code: string; statementIndex?: number; name: string } | undefined;
    try {
      await db.transaction([
        { sql: 'INSERT INTO notes (id, tab, seq) VALUES (2, ?, ?)', params: ['f', 2] },
        { sql: 'INSERT INTO tags (note_id, tag) VALUES (2, ?)', params: ['second'] },
        { sql: 'INSERT INTO tags (note_id, tag) VALUES (999, ?)', params: ['dangling'] }, // FK violation
      ]);
    } catch (e) {
      const err = e as { code: string; statementIndex?: number; name: string };
      error = { code: err.code, statementIndex: err.statementIndex, name: err.name };
    }
    const notes = await db.query<{ id: number }>('SELECT id FROM notes ORDER BY id');
    const tags = await db.query<{ tag: string }>('SELECT tag FROM tags ORDER BY id');
    return { firstChanges: ok.map((r) => r.changes), error, notes: notes.map((n) => n.id), tags: tags.map((t) => t.tag) };
  });
  expect(outcome.firstChanges).toEqual([1, 1]);
  expect(outcome.error).toEqual({ code: 'constraint_violation', statementIndex: 2, name: 'OversqliteError' });
  expect(outcome.notes).toEqual([1]);
  expect(outcome.tags).toEqual(['first']);
  const fromLeader = await leader.evaluate(async () => (await window.harness.db('atomic').query('SELECT count(*) AS c FROM tags'))[0]);
  expect(fromLeader).toEqual({ c: 1 });
});
