import { describe, expect, it } from 'vitest';
import { LocalDatabase } from '../../worker/database/local-database.ts';
import { openMemory, testSchema } from './open-memory.ts';

describe('typed errors', () => {
  it('reports SQL, constraint and argument errors with codes', async () => {
    const db = await openMemory();
    const missing = db.query('SELECT * FROM nope');
    expect(!missing.ok && missing.error.code).toBe('sql_error');
    expect(!missing.ok && missing.error.message).toMatch(/no such table: nope/);
    const bad = await db.write({ statements: [{ sql: 'INSERT INTO tasks (title, n) VALUES (?, ?)', params: ['x', 2 ** 60] }] });
    expect(!bad.ok && bad.error.code).toBe('invalid_argument');
    const undef = db.query('SELECT ?', [undefined as never]);
    expect(!undef.ok && undef.error.code).toBe('invalid_argument');
    const begin = await db.write({ statements: [{ sql: 'BEGIN' }] });
    expect(!begin.ok && begin.error.code).toBe('invalid_argument');
    db.close();
    const closed = db.query('SELECT 1');
    expect(!closed.ok && closed.error.code).toBe('closed');
  });

  it('refuses OPFS where it does not exist instead of opening an empty in-memory database', async () => {
    await expect(LocalDatabase.open({ name: 'x', schema: testSchema, storage: 'opfs' })).rejects.toMatchObject({
      code: 'opfs_unavailable',
    });
  });

  it('a full disk is storage_full with a clean rollback: nothing of the group is kept or acknowledged', async () => {
    const db = await openMemory();
    await db.write({ statements: [{ sql: "INSERT INTO tasks (title) VALUES ('before')" }] });
    const pages = db.query('PRAGMA page_count');
    const pageCount = pages.ok ? Number(pages.value.rows[0]!.page_count) : 0;
    db.connection.exec(`PRAGMA max_page_count = ${pageCount + 2}`);
    const big = 'x'.repeat(64 * 1024);
    const outcomes = await Promise.all([
      db.write({ statements: [{ sql: "INSERT INTO tasks (title) VALUES ('small')" }] }),
      db.write({ statements: [{ sql: 'INSERT INTO tasks (title) VALUES (?)', params: [big] }] }),
    ]);
    const full = outcomes[1]!;
    expect(!full.ok && full.error.code).toBe('storage_full');
    const titles = db.query('SELECT title FROM tasks ORDER BY id');
    const kept = titles.ok ? titles.value.rows.map((r) => r.title) : [];
    // Whatever SQLite chose (statement or transaction rollback), an acknowledged write is present.
    expect(kept).not.toContain(big);
    if (outcomes[0]!.ok) expect(kept).toEqual(['before', 'small']);
    else expect(kept).toEqual(['before']);
    const check = db.query('PRAGMA integrity_check');
    expect(check.ok && check.value.rows[0]!.integrity_check).toBe('ok');
    db.close();
  });
});
