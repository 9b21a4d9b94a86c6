/**
 * Crash/resume of a push against the real server: the connection dies right after the server
 * performed a step (create, a chunk, the commit, the committed-rows fetch, a one-request push),
 * the engine is dropped, and a new engine over the same database finishes the push. PostgreSQL
 * ends with every row exactly once, one committed bundle for source bundle 1, and nothing pending
 * locally.
 * The committed rows are read back only when the commit differs from the push beyond what the
 * client predicts (PostgreSQL's rendering of a zoned timestamp): here it does, because one
 * `users.created_at` has no zone (`2026-01-01 10:00:00`), which PostgreSQL reads in the session's
 * zone and returns as `2026-01-01T10:00:00+00:00`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { pgRows, startWorld, uuid } from './support/devices.ts';
import { LostAnswers } from './support/lost-answers.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

// [step, request path, rows per chunk]: 2 makes the 5-row bundle three chunks (create, chunks,
// commit); the default lets it go as one request (our server's one-request push).
const STEPS: [string, RegExp, number | undefined][] = [
  ['create', /\/sync\/push-sessions$/, 2],
  ['chunk', /\/chunks$/, 2],
  ['commit', /\/commit$/, 2],
  ['committed rows', /\/committed-bundles\/\d+\/rows$/, 2],
  ['one-request push', /\/sync\/push-sessions$/, undefined],
];

describe('push crash/resume against the real server', () => {
  for (const [name, pattern, pushChunkRows] of STEPS) {
    it(`response lost after ${name}`, async () => {
      const user = `crash-${name.replace(/ /g, '-')}`;
      const lost = new LostAnswers();
      const d = await world.device(user, { retry: { attempts: 1 }, pushChunkRows, fetch: lost.fetch });
      await d.engine.attach(user);
      d.db.exec(
        [1, 2, 3, 4, 5].map((i) => `INSERT INTO users(id, name) VALUES ('${uuid(i)}', 'row ${i}')`).join(';') +
          `; UPDATE users SET created_at = '2026-01-01 10:00:00' WHERE id = '${uuid(5)}'`,
      );
      lost.loseNext(pattern);
      await expect(d.engine.pushPending()).rejects.toMatchObject({ code: 'network_error' });
      await d.engine.close();

      const again = await d.reopen({ fetch: undefined, retry: undefined });
      const res = await again.pushPending();
      expect(res.outcome).toBe('committed');
      expect((await pgRows(world, 'users', user)).map((r) => r.name)).toEqual([1, 2, 3, 4, 5].map((i) => `row ${i}`));
      const bundles = await world.server.database.query(
        `SELECT b.source_bundle_id FROM sync.bundle_log b JOIN sync.user_state u USING (user_pk) WHERE u.user_id = $1`,
        [user],
      );
      expect(bundles.rows).toEqual([{ source_bundle_id: expect.anything() }]);
      expect(Number((bundles.rows[0] as { source_bundle_id: unknown }).source_bundle_id)).toBe(1);
      expect(again.status).toMatchObject({ pendingCount: 0, checkpoint: 1 });
      expect((await again.pushPending()).outcome).toBe('no_change');
    });
  }
});
