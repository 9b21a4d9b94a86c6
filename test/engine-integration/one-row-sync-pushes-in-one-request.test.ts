/**
 * Issue 16 ("live in milliseconds"): against our server, which advertises the one-request push, a
 * one-row sync makes exactly one push request (create + rows + commit); against a server that
 * does not advertise it (ours with the extension off, like go-oversync) the same sync makes the
 * three requests of the protocol. Requests are counted through the engine's `fetch` option. A
 * bundle larger than one chunk still goes create → chunks → commit.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let withExtension: World;
let without: World;
beforeAll(async () => {
  [withExtension, without] = await Promise.all([
    startWorld({ purpose: 'one_request_on' }),
    startWorld({ purpose: 'one_request_off', oneRequestPush: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([withExtension?.close(), without?.close()]);
});

async function pushRequestsOfOneRowSync(
  world: World,
  user: string,
  pushChunkRows?: number,
): Promise<{ oneRow: string[]; threeRows: string[] }> {
  const requests: string[] = [];
  const d = await world.device(user, {
    ...(pushChunkRows ? { pushChunkRows } : {}),
    fetch: (input, init) => {
      const path = new URL(String(input)).pathname;
      if (path.includes('/sync/push-sessions'))
        requests.push(`${init?.method ?? 'GET'} ${path.replace(/push-sessions\/[^/]+/, 'push-sessions/:id')}`);
      return fetch(input, init);
    },
  });
  await d.engine.attach(user);
  await d.engine.sync();
  requests.length = 0;
  d.db.exec(`INSERT INTO users(id, name, created_at) VALUES ('${uuid(1)}', 'One', '2026-03-01T08:00:00Z')`);
  expect(await d.engine.sync()).toMatchObject({ push: { outcome: 'committed', rowCount: 1 } });
  const oneRow = requests.splice(0);
  d.db.exec(`BEGIN;
    UPDATE users SET name = 'One again' WHERE id = '${uuid(1)}';
    INSERT INTO users(id, name, created_at) VALUES ('${uuid(2)}', 'Two', '2026-03-01T08:00:00Z'), ('${uuid(3)}', 'Three', '2026-03-01T08:00:00Z');
    COMMIT;`);
  expect(await d.engine.sync()).toMatchObject({ push: { outcome: 'committed', rowCount: 3 } });
  const threeRows = requests.splice(0);
  expect(d.engine.status.pendingCount).toBe(0);
  expect(localRows(d.db, 'users').map((r) => r.name)).toEqual(['One again', 'Two', 'Three']);
  expect((await pgRows(world, 'users', user)).map((r) => r.name)).toEqual(['One again', 'Two', 'Three']);
  return { oneRow, threeRows };
}

it('one push request against a server advertising the one-request push', async () => {
  const { oneRow, threeRows } = await pushRequestsOfOneRowSync(withExtension, 'ona');
  expect(oneRow).toEqual(['POST /sync/push-sessions']);
  expect(threeRows).toEqual(['POST /sync/push-sessions']);
});

it('create, chunk and commit against a server without it', async () => {
  const { oneRow } = await pushRequestsOfOneRowSync(without, 'otto');
  expect(oneRow).toEqual(['POST /sync/push-sessions', 'POST /sync/push-sessions/:id/chunks', 'POST /sync/push-sessions/:id/commit']);
});

it('a bundle larger than one chunk goes create → chunks → commit even where the extension is offered', async () => {
  const { oneRow, threeRows } = await pushRequestsOfOneRowSync(withExtension, 'chunky', 2);
  expect(oneRow).toEqual(['POST /sync/push-sessions']);
  expect(threeRows).toEqual([
    'POST /sync/push-sessions',
    'POST /sync/push-sessions/:id/chunks',
    'POST /sync/push-sessions/:id/chunks',
    'POST /sync/push-sessions/:id/commit',
  ]);
});
