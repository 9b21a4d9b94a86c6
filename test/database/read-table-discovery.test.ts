import { describe, expect, it } from 'vitest';
import { openMemory } from './open-memory.ts';

describe('tables read by a query (authorizer at prepare time)', () => {
  it('finds tables behind joins, subqueries, views and count(*)', async () => {
    const db = await openMemory();
    await db.write({ statements: [{ sql: 'CREATE VIEW open_tasks AS SELECT t.* FROM tasks t JOIN projects p ON p.id = t.project_id' }] });
    const cases: Array<[string, string[]]> = [
      ['SELECT count(*) FROM tasks', ['tasks']],
      // The view itself is listed too; only the base tables ever appear in change notices.
      ['SELECT title FROM open_tasks', ['open_tasks', 'projects', 'tasks']],
      ['SELECT (SELECT max(id) FROM audit) AS m, name FROM projects', ['audit', 'projects']],
      ['SELECT 1 AS one', []],
    ];
    for (const [sql, tables] of cases) {
      const out = db.watchedQuery(sql);
      expect(out.ok && out.value.tables, sql).toEqual(tables);
    }
    db.close();
  });
});
