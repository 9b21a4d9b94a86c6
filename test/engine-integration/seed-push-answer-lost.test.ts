/**
 * The seed push's answer is lost after the server committed it (the connection dies after the
 * commit, or after the one-request push). The server then sees an initialized scope, and a
 * create that still carries the consumed lease is refused (`push_session_invalid`, as
 * go-oversync's server does). The next sync connects again, takes the server's state and sends the
 * frozen bundle without the lease: `already_committed`, replayed. PostgreSQL ends with every row
 * exactly once in one bundle, and nothing is pending. Real server and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';
import { LostAnswers } from './support/lost-answers.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

const STEPS: [string, RegExp, number | undefined][] = [
  ['commit', /\/commit$/, 2],
  ['one-request push', /\/sync\/push-sessions$/, undefined],
];

describe('seed push whose answer is lost', () => {
  for (const [name, pattern, pushChunkRows] of STEPS) {
    it(`answer lost after the ${name}: the next sync settles it as already committed`, async () => {
      const user = `seed-lost-${name.replace(/ /g, '-')}`;
      const lost = new LostAnswers();
      const d = await world.device(user, { retry: { attempts: 1 }, pushChunkRows, fetch: lost.fetch });
      d.db.exec([1, 2, 3, 4, 5].map((i) => `INSERT INTO users(id, name) VALUES ('${uuid(i)}', 'row ${i}')`).join(';'));
      expect(await d.engine.attach(user)).toMatchObject({ outcome: 'seeded_from_local' });
      lost.loseNext(pattern);
      await expect(d.engine.sync()).rejects.toMatchObject({ code: 'network_error' });
      await d.engine.sync();
      expect(d.engine.status).toMatchObject({ userId: user, pendingCount: 0, lastError: null });
      const rows = await pgRows(world, 'users', user);
      expect(rows.map((r) => r.name)).toEqual(['row 1', 'row 2', 'row 3', 'row 4', 'row 5']);
      const bundles = await world.server.database.query(
        `SELECT count(*)::int AS n FROM sync.bundle_log b JOIN sync.user_state u USING (user_pk) WHERE u.user_id = $1`,
        [user],
      );
      expect(bundles.rows[0].n).toBe(1);
      expect(localRows(d.db, 'users')).toHaveLength(5);
    });
  }
});
