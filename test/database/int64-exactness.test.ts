import { describe, expect, it } from 'vitest';
import { openMemory } from './open-memory.ts';

describe('int64 values', () => {
  it('round-trip exactly: numbers inside 2^53, bigints outside', async () => {
    const db = await openMemory();
    const values = [0n, 9007199254740991n, 9007199254740992n, 9223372036854775807n, -9223372036854775808n, -9007199254740993n];
    await Promise.all(
      values.map((v) => db.write({ statements: [{ sql: 'INSERT INTO tasks (title, n) VALUES (?, ?)', params: ['x', v] }] })),
    );
    const out = db.query('SELECT n FROM tasks ORDER BY id');
    expect(out.ok && out.value.rows.map((r) => r.n)).toEqual([
      0,
      9007199254740991,
      9007199254740992n,
      9223372036854775807n,
      -9223372036854775808n,
      -9007199254740993n,
    ]);
    const rowid = await db.write({
      statements: [{ sql: 'INSERT INTO tasks (id, title) VALUES (?, ?)', params: [9223372036854775806n, 'big id'] }],
    });
    expect(rowid.ok && rowid.value[0]!.lastInsertRowid).toBe(9223372036854775806n);
    db.close();
  });
});
