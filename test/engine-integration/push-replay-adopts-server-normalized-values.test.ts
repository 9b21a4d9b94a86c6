/**
 * After a push against the real server, the pushing device holds exactly what the server
 * committed. Rows the server commits as they were sent are not rewritten locally (replay only
 * records their version); rows the server normalizes (numeric scale, timestamp zone, jsonb member order and spacing) are
 * rewritten with the committed values. A second device hydrating from the server ends up with
 * the same rows, column by column. A bundle committed exactly as pushed (booleans come back in
 * their outbound form, true/false) is proved by its bundle_hash and not read back at all.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('adopts what the server committed and rewrites only the rows it changed', async () => {
  const user = 'normalized-replay';
  const a = await world.device(user);
  expect(await a.engine.attach(user)).toMatchObject({ outcome: 'started_empty' });
  // An app trigger (not the engine's capture) that sees every rewrite of an existing row.
  a.db.exec(`CREATE TABLE rewrites (tbl TEXT NOT NULL, id TEXT NOT NULL);
    CREATE TRIGGER projects_rewritten AFTER UPDATE ON projects BEGIN INSERT INTO rewrites VALUES ('projects', NEW.id); END;
    CREATE TRIGGER users_rewritten AFTER UPDATE ON users BEGIN INSERT INTO rewrites VALUES ('users', NEW.id); END;
    CREATE TRIGGER tags_rewritten AFTER UPDATE ON tags BEGIN INSERT INTO rewrites VALUES ('tags', NEW.name); END;`);
  a.db.exec(`
    INSERT INTO users(id, name, email, created_at) VALUES ('${uuid(1)}', 'Ada', 'ada@example.com', '2024-05-01T08:00:00Z');
    INSERT INTO users(id, name, created_at) VALUES ('${uuid(2)}', 'Bo', '2024-05-01T10:00:00+02:00');
    INSERT INTO projects(id, owner_id, title, budget, archived) VALUES ('${uuid(11)}', '${uuid(1)}', 'scale kept', '7.25', 0);
    INSERT INTO projects(id, owner_id, title, budget, archived) VALUES ('${uuid(12)}', '${uuid(1)}', 'scale added', '12.5', 1);
    INSERT INTO projects(id, owner_id, title, budget) VALUES ('${uuid(13)}', '${uuid(1)}', 'no budget', NULL);
    INSERT INTO tags(name, color, weight, meta) VALUES ('plain', 'red', 3, NULL);
    INSERT INTO tags(name, color, weight, meta) VALUES ('doc', NULL, NULL, '{"b": 1, "a": [1, 2]}');`);
  const before = Object.fromEntries(['users', 'projects'].map((t) => [t, localRows(a.db, t)]));
  const res = await a.engine.pushPending();
  expect(res).toMatchObject({ outcome: 'committed', rowCount: 7 });

  const b = await world.device(user);
  expect(await b.engine.attach(user)).toMatchObject({ outcome: 'used_remote_state' });
  for (const [table, key] of [
    ['users', 'id'],
    ['projects', 'id'],
    ['tags', 'name'],
  ] as const) {
    expect(localRows(a.db, table, key)).toEqual(localRows(b.db, table, key));
  }
  const rewritten = a.db.exec({ sql: 'SELECT tbl, id FROM rewrites ORDER BY tbl, id', rowMode: 'array', returnValue: 'resultRows' });
  const changed = (table: 'users' | 'projects') =>
    localRows(a.db, table)
      .filter((r, i) => JSON.stringify(r) !== JSON.stringify(before[table]![i]))
      .map((r) => [table, r.id]);
  // Exactly the rows whose values the server changed were written again (the jsonb row is always
  // re-applied: its local text is not the committed canonical form).
  expect(rewritten).toEqual([...changed('projects'), ['tags', 'doc'], ...changed('users')]);
  expect(changed('projects')).toEqual([['projects', uuid(12)]]);
  expect(localRows(a.db, 'projects').find((r) => r.id === uuid(12))!.budget).toBe('12.50');
  expect(localRows(a.db, 'tags', 'name').find((r) => r.name === 'doc')!.meta).toBe('{"a":[1,2],"b":1}');
  expect(
    a.db.selectValue('SELECT COUNT(*) FROM _sync_row_state WHERE row_version = ?', [res.outcome === 'committed' ? res.bundleSeq : -1]),
  ).toBe(7);
  expect(a.engine.status.pendingCount).toBe(0);
});

it('does not read back a bundle the server committed exactly as pushed (booleans in their outbound form)', async () => {
  const user = 'as-pushed-replay';
  const committedRowsRequests: string[] = [];
  const a = await world.device(user, {
    fetch: (input, init) => {
      const path = new URL(String(input)).pathname;
      if (/\/committed-bundles\//.test(path)) committedRowsRequests.push(path);
      return fetch(input, init);
    },
  });
  await a.engine.attach(user);
  a.db.exec(`
    INSERT INTO users(id, name, created_at) VALUES ('${uuid(1)}', 'Ada', '2024-05-01T08:00:00+00:00');
    INSERT INTO projects(id, owner_id, title, budget, archived) VALUES ('${uuid(11)}', '${uuid(1)}', 'kept', '7.25', 1);
    INSERT INTO tags(name, color, weight) VALUES ('plain', 'red', 3);`);
  expect(await a.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 3 });
  expect(committedRowsRequests).toEqual([]);
  expect(a.db.selectValue('SELECT COUNT(*) FROM _sync_row_state WHERE row_version > 0 AND deleted = 0')).toBe(3);

  const b = await world.device(user);
  await b.engine.attach(user);
  for (const [table, key] of [
    ['users', 'id'],
    ['projects', 'id'],
    ['tags', 'name'],
  ] as const) {
    expect(localRows(a.db, table, key)).toEqual(localRows(b.db, table, key));
  }
});
