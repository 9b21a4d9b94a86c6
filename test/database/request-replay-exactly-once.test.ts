import { describe, expect, it } from 'vitest';
import { openMemory } from './open-memory.ts';

describe('write requests with ids (leader hand-over retries)', () => {
  it('a retried request id returns the recorded result and is not applied twice', async () => {
    const db = await openMemory();
    const unit = {
      requestId: 'tab1:42',
      statements: [
        { sql: 'INSERT INTO tasks (title, n) VALUES (?, ?) RETURNING id, n', params: ['once', 2n ** 62n] },
        { sql: "INSERT INTO projects (id, name) VALUES ('p', 'P')" },
      ],
    };
    const first = await db.write(unit);
    const again = await db.write(unit);
    expect(first.ok).toBe(true);
    expect(again).toEqual(first);
    const count = db.query("SELECT count(*) AS c FROM tasks WHERE title = 'once'");
    expect(count.ok && count.value.rows[0]!.c).toBe(1);
  });

  it('a failed request is not recorded, so its retry is applied', async () => {
    const db = await openMemory();
    await db.write({ statements: [{ sql: "INSERT INTO projects (id, name) VALUES ('p', 'P')" }] });
    const failed = await db.write({ requestId: 'r1', statements: [{ sql: "INSERT INTO projects (id, name) VALUES ('q', 'P')" }] });
    expect(failed.ok).toBe(false);
    await db.write({ statements: [{ sql: "UPDATE projects SET name = 'renamed' WHERE id = 'p'" }] });
    const retried = await db.write({ requestId: 'r1', statements: [{ sql: "INSERT INTO projects (id, name) VALUES ('q', 'P')" }] });
    expect(retried.ok).toBe(true);
  });
});
