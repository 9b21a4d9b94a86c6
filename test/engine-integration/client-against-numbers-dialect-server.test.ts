/**
 * Our client against a server that speaks `go-json-numbers` (our own server with
 * `wireDialect: 'go-json-numbers'`, the dialect of go-oversync 1f1118f): the engine learns the
 * dialect (no `canonical_request_hash` echo, then the Go-material bundle_hash), proves its pushes
 * without downloading them, hydrates and pulls JSON numbers exactly, and refuses to push an integer
 * beyond 2^53 - 1 or a decimal of more than 15 digits (that dialect's peers round them) naming
 * table, key and column; the change stays pending until edited. The same run
 * against go-oversync's own server is `interop/node/`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ wireDialect: 'go-json-numbers' });
});
afterAll(() => world?.close());

it('syncs two devices exactly through a go-json-numbers server', async () => {
  const requests: string[] = [];
  const a = await world.device('nina', {
    fetch: (input, init) => {
      requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    },
  });
  await a.engine.attach('nina');
  a.db.exec(`BEGIN;
    INSERT INTO users(id, name, created_at) VALUES ('${uuid(1)}', 'a & <b> \u2028', '2026-03-01T08:00:00.000Z');
    INSERT INTO projects(id, owner_id, title, budget, archived) VALUES ('${uuid(2)}', '${uuid(1)}', 'P', '12.5', 1);
    INSERT INTO tasks(id, project_id, title, done, priority, estimate_hours, attachment, due_at)
      VALUES ('${uuid(3)}', '${uuid(2)}', 'T', 0, 9007199254740991, 0.1 + 0.2, x'00ff', '2026-03-01T08:00:00.123456789Z');
    INSERT INTO tags(name, color, weight, meta) VALUES ('t', NULL, -2147483648, '{"n":1}');
    COMMIT;`);
  expect(await a.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 4 });
  expect(requests.filter((r) => r.includes('/committed-bundles/'))).toEqual([]);
  expect((await pgRows(world, 'tasks', 'nina')).map((r) => String(r.priority))).toEqual(['9007199254740991']);

  const b = await world.device('nina');
  expect(await b.engine.attach('nina')).toMatchObject({ outcome: 'used_remote_state', snapshotRows: 4 });
  for (const t of ['users', 'projects', 'tasks']) expect(localRows(b.db, t), t).toEqual(localRows(a.db, t));
  expect(localRows(b.db, 'tags', 'name')).toEqual(localRows(a.db, 'tags', 'name'));
  expect(localRows(b.db, 'tasks')[0]).toMatchObject({ priority: 9007199254740991, estimate_hours: 0.30000000000000004 });

  b.db.exec(`UPDATE tasks SET priority = -42, estimate_hours = 1e-7 WHERE id = '${uuid(3)}'`);
  await b.engine.sync();
  await a.engine.sync();
  expect(localRows(a.db, 'tasks')[0]).toMatchObject({ priority: -42, estimate_hours: 1e-7 });

  a.db.exec(`UPDATE tasks SET priority = 9007199254740992 WHERE id = '${uuid(3)}'`);
  await expect(a.engine.pushPending()).rejects.toMatchObject({
    code: 'value_not_representable',
    detail: { table: 'tasks', key: uuid(3), column: 'priority', value: '9007199254740992' },
  });
  expect(a.engine.status.pendingCount).toBe(1);
  expect((await pgRows(world, 'tasks', 'nina')).map((r) => String(r.priority))).toEqual(['-42']);

  // A decimal of 16 significant digits would go through a float64 in that dialect too.
  a.db.exec(
    `UPDATE tasks SET priority = 7 WHERE id = '${uuid(3)}'; UPDATE projects SET budget = '1234567.890123456' WHERE id = '${uuid(2)}'`,
  );
  await expect(a.engine.pushPending()).rejects.toMatchObject({
    code: 'value_not_representable',
    detail: { table: 'projects', key: uuid(2), column: 'budget', value: '1234567.890123456' },
  });
  a.db.exec(`UPDATE projects SET budget = '1234567.89' WHERE id = '${uuid(2)}'`);
  expect(await a.engine.pushPending()).toMatchObject({ outcome: 'committed' });
  expect(a.engine.status.pendingCount).toBe(0);
  expect((await pgRows(world, 'tasks', 'nina')).map((r) => String(r.priority))).toEqual(['7']);
});
