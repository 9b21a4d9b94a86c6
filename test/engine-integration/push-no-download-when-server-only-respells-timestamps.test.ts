/**
 * Issue 15: a timestamp the server only re-spells (`…T08:00:00.000Z` → `…T08:00:00+00:00`,
 * nanoseconds → microseconds) must not cost a download of the bundle just committed. The push
 * predicts PostgreSQL's text, proves the bundle by its bundle_hash, writes the committed spelling
 * locally (same instant), and never asks for the committed rows. A timestamp without a zone is not
 * predicted: that push downloads its bundle and adopts the server's text, as before.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('proves a push with re-spelled timestamps without downloading it', async () => {
  const requests: string[] = [];
  const d = await world.device('tess', {
    fetch: (input, init) => {
      requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    },
  });
  await d.engine.attach('tess');
  d.db.exec(`BEGIN;
    INSERT INTO users(id, name, created_at) VALUES ('${uuid(1)}', 'T', '2026-03-01T08:00:00.000Z');
    INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(2)}', '${uuid(1)}', 'P');
    INSERT INTO tasks(id, project_id, title, due_at) VALUES
      ('${uuid(3)}', '${uuid(2)}', 'nanos', '2026-03-01T08:00:00.123456789Z'),
      ('${uuid(4)}', '${uuid(2)}', 'offset', '2026-03-01T10:00:00+02:00');
    COMMIT;`);
  expect(await d.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 4 });
  expect(requests.filter((r) => r.includes('/committed-bundles/'))).toEqual([]);
  expect(localRows(d.db, 'users').map((r) => r.created_at)).toEqual(['2026-03-01T08:00:00+00:00']);
  expect(localRows(d.db, 'tasks').map((r) => r.due_at)).toEqual(['2026-03-01T08:00:00.123457+00:00', '2026-03-01T08:00:00+00:00']);
  expect((await pgRows(world, 'tasks', 'tess')).map((r) => (r.due_at as Date).toISOString())).toEqual([
    '2026-03-01T08:00:00.123Z',
    '2026-03-01T08:00:00.000Z',
  ]);
  expect(d.engine.status.pendingCount).toBe(0);

  // A zoneless timestamp: PostgreSQL reads it in the session's zone; not predicted, so downloaded.
  d.db.exec(`UPDATE tasks SET due_at = '2026-03-02 09:00:00' WHERE id = '${uuid(3)}'`);
  expect(await d.engine.pushPending()).toMatchObject({ outcome: 'committed' });
  expect(requests.filter((r) => r.includes('/committed-bundles/'))).toHaveLength(1);
  expect(localRows(d.db, 'tasks').map((r) => r.due_at)[0]).toBe('2026-03-02T09:00:00+00:00');
});
