import { describe, expect, it } from 'vitest';
import type { CommitNotice } from '../../worker/database/table-access.ts';
import { openMemory } from './open-memory.ts';

async function collect(run: (notices: CommitNotice[]) => Promise<void> | void): Promise<CommitNotice[]> {
  const notices: CommitNotice[] = [];
  await run(notices);
  await Promise.resolve(); // commit notices of direct (engine-style) writes go out from a microtask
  return notices;
}

describe('changed-table detection', () => {
  it('announces the tables of each grouped commit, including trigger targets and WITHOUT ROWID tables', async () => {
    const db = await openMemory();
    const notices: CommitNotice[] = [];
    db.onCommit((n) => notices.push(n));
    await Promise.all([
      db.write({ statements: [{ sql: "INSERT INTO projects (id, name) VALUES ('p', 'P')" }] }),
      db.write({ statements: [{ sql: "INSERT INTO tasks (title, project_id) VALUES ('t', 'p')" }] }),
    ]);
    expect(notices).toEqual([{ tables: ['audit', 'projects', 'tasks'], seq: 1 }]);
    // The notice is delivered before the callers' promises settle.
    const p = db.write({ statements: [{ sql: "UPDATE projects SET name = 'Q' WHERE id = 'p'" }] });
    await p;
    expect(notices[1]).toEqual({ tables: ['projects'], seq: 2 });
    db.close();
  });

  it('announces commits made directly on the connection (as the sync engine does), leaving out internal tables', async () => {
    const db = await openMemory();
    const notices = await collect((out) => {
      db.onCommit((n) => out.push(n));
      db.connection.exec('CREATE TABLE _sync_dirty_rows (k TEXT)');
      db.connection.transaction((tx) => {
        tx.exec("INSERT INTO _sync_dirty_rows VALUES ('x')");
        tx.exec("INSERT INTO tasks (title) VALUES ('from sync')");
      });
    });
    expect(notices.map((n) => n.tables)).toEqual([['audit', 'tasks']]);
    db.close();
  });

  it('announces nothing for a rolled-back transaction or a failed write', async () => {
    const db = await openMemory();
    const notices = await collect(async (out) => {
      db.onCommit((n) => out.push(n));
      expect(() =>
        db.connection.transaction((tx) => {
          tx.exec("INSERT INTO tasks (title) VALUES ('doomed')");
          throw new Error('abort');
        }),
      ).toThrow('abort');
      const failed = await db.write({ statements: [{ sql: 'INSERT INTO tasks (title) VALUES (NULL)' }] });
      expect(failed.ok).toBe(false);
    });
    // The failed unit's savepoint was rolled back but its (empty) group still committed; it may
    // announce at most the table it tried to write, never a table nobody touched.
    for (const notice of notices) expect(notice.tables.every((t) => t === 'tasks' || t === 'audit')).toBe(true);
    expect(notices.filter((n) => n.tables.length > 0).length).toBeLessThanOrEqual(1);
    const count = db.query('SELECT count(*) AS c FROM tasks');
    expect(count.ok && count.value.rows[0]!.c).toBe(0);
    db.close();
  });

  it('preparing a statement to find its read tables does not mark anything as changed', async () => {
    const db = await openMemory();
    const notices = await collect(async (out) => {
      db.onCommit((n) => out.push(n));
      const watched = db.watchedQuery('SELECT count(*) AS c FROM tasks');
      expect(watched.ok && watched.value.tables).toEqual(['tasks']);
      await db.write({ statements: [{ sql: "INSERT INTO projects (id, name) VALUES ('a', 'A')" }] });
    });
    expect(notices.map((n) => n.tables)).toEqual([['projects']]);
    db.close();
  });
});
