import { describe, expect, it } from 'vitest';
import { openMemory } from './open-memory.ts';

describe('group commit', () => {
  it('commits concurrent single-row writes in one transaction, in arrival order, each with its own result', async () => {
    const db = await openMemory();
    const calls = Array.from({ length: 200 }, (_, i) =>
      db.write({ statements: [{ sql: 'INSERT INTO tasks (title, n) VALUES (?, ?)', params: [`t${i}`, i] }] }),
    );
    const outcomes = await Promise.all(calls);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(outcomes.map((o) => (o.ok ? o.value[0]!.lastInsertRowid : -1))).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const stats = db.groupCommitStats();
    expect(stats.batches).toBe(1);
    expect(stats.largestBatch).toBe(200);
    const rows = db.query('SELECT id, n FROM tasks ORDER BY id');
    expect(rows.ok && rows.value.rows.map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    db.close();
  });

  it('a failing call rolls back only itself; the others in its group commit', async () => {
    const db = await openMemory();
    const [a, bad, c] = await Promise.all([
      db.write({ statements: [{ sql: "INSERT INTO projects (id, name) VALUES ('p1', 'one')" }] }),
      db.write({
        statements: [
          { sql: "INSERT INTO projects (id, name) VALUES ('p2', 'two')" },
          { sql: "INSERT INTO projects (id, name) VALUES ('p3', 'one')" }, // UNIQUE violation
        ],
      }),
      db.write({ statements: [{ sql: "INSERT INTO projects (id, name) VALUES ('p4', 'four')" }] }),
    ]);
    expect(a.ok && c.ok).toBe(true);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('constraint_violation');
      expect(bad.error.statementIndex).toBe(1);
    }
    const ids = db.query('SELECT id FROM projects ORDER BY id');
    expect(ids.ok && ids.value.rows.map((r) => r.id)).toEqual(['p1', 'p4']);
    db.close();
  });

  it('a read waits for the writes queued before it', async () => {
    const db = await openMemory();
    const pending = db.write({ statements: [{ sql: "INSERT INTO tasks (title) VALUES ('x')" }] });
    const read = db.query('SELECT count(*) AS c FROM tasks');
    expect(read.ok && read.value.rows[0]!.c).toBe(1);
    expect((await pending).ok).toBe(true);
    db.close();
  });

  it('foreign keys are enforced', async () => {
    const db = await openMemory();
    const out = await db.write({ statements: [{ sql: "INSERT INTO tasks (title, project_id) VALUES ('x', 'missing')" }] });
    expect(!out.ok && out.error.code).toBe('constraint_violation');
    db.close();
  });
});
