/**
 * Group commit runs a unit that is alone in its group without a savepoint (the transaction is
 * its own; a failure rolls the transaction back). That fast path must behave exactly like the
 * savepoint path a unit takes inside a larger group: same outcome (results, error code,
 * statement index) and same database afterwards. Two databases get the same seeded units: on one
 * each unit is awaited alone, on the other each is grouped with read-only companion units. Units
 * mix successes, constraint and foreign-key failures at any statement, bad SQL, trigger side
 * effects and request-id replays.
 */
import { expect, it } from 'vitest';
import type { LocalDatabase } from '../../worker/database/local-database.ts';
import type { SqlStatement } from '../../worker/database/types.ts';
import { openMemory } from './open-memory.ts';
import { seededRandom } from '../harness/seeded-random.ts';

function randomStatement(rnd: () => number): SqlStatement {
  const p = `p${Math.floor(rnd() * 6)}`;
  const name = `n${Math.floor(rnd() * 6)}`; // projects.name is UNIQUE: collisions fail
  switch (Math.floor(rnd() * 6)) {
    case 0:
      return { sql: 'INSERT INTO projects (id, name) VALUES (?, ?)', params: [p, name] };
    case 1:
      return { sql: 'UPDATE projects SET name = ? WHERE id = ?', params: [name, p] };
    case 2:
      return { sql: 'DELETE FROM projects WHERE id = ?', params: [p] }; // may break a task's FK
    case 3:
      return {
        sql: 'INSERT INTO tasks (project_id, title, n) VALUES (?, ?, ?)',
        params: [rnd() < 0.8 ? p : 'missing', `t${Math.floor(rnd() * 100)}`, Math.floor(rnd() * 10)],
      };
    case 4:
      return { sql: 'UPDATE tasks SET n = n + 1 WHERE project_id = ?', params: [p] };
    default:
      return rnd() < 0.5 ? { sql: 'SELECT count(*) AS c FROM tasks' } : { sql: 'INSERT INTO nowhere VALUES (1)' };
  }
}

function dump(db: LocalDatabase): unknown {
  const read = (sql: string) => {
    const r = db.query(sql);
    if (!r.ok) throw new Error(r.error.message);
    return r.value.rows;
  };
  return [read('SELECT * FROM projects ORDER BY id'), read('SELECT * FROM tasks ORDER BY id'), read('SELECT * FROM audit ORDER BY id')];
}

it('a unit alone in its group gives the same outcome and data as the same unit inside a group', async () => {
  const seed = Number(process.env.TEST_SEED ?? Math.floor(Math.random() * 1e9));
  console.log(`unit-alone-behaves-like-unit-in-group seed=${seed}`);
  const rnd = seededRandom(seed);
  const alone = await openMemory();
  const grouped = await openMemory();
  // A read-only companion: it makes the group bigger without touching sqlite3_changes(), which a
  // SELECT's result reports as left by the statement before it.
  const companion = { statements: [{ sql: 'SELECT 1 AS one' }] };
  try {
    let failures = 0;
    for (let u = 0; u < 300; u++) {
      const statements = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => randomStatement(rnd));
      // Some units carry a request id, sometimes one already used (a replay returns the recorded results).
      const requestId = rnd() < 0.3 ? `r${Math.floor(rnd() * 20)}` : undefined;
      const unit = { statements, ...(requestId ? { requestId } : {}) };
      const a = await alone.write(unit);
      const [, b] = await Promise.all([grouped.write(companion), grouped.write(unit), grouped.write(companion)]);
      expect(b, `seed=${seed} unit ${u}: ${JSON.stringify(unit)}`).toEqual(a);
      if (!a.ok) failures++;
      if (u % 25 === 0) expect(dump(grouped), `seed=${seed} after unit ${u}`).toEqual(dump(alone));
    }
    expect(dump(grouped), `seed=${seed}`).toEqual(dump(alone));
    // The mix must exercise both paths: failing units and committing ones.
    expect(failures).toBeGreaterThan(20);
    expect(failures).toBeLessThan(280);
    // Awaited one at a time, the first database's units really were alone in their groups.
    expect(alone.groupCommitStats().largestBatch).toBe(1);
    expect(grouped.groupCommitStats().largestBatch).toBe(3);
  } finally {
    alone.close();
    grouped.close();
  }
});
