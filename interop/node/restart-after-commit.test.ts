/**
 * Restart after commit through go-oversync's server: the response of a push step is lost (the
 * server did the work), the app restarts (a new engine over the same database), and the push
 * finishes: after a lost commit the new engine's create is answered `already_committed` by
 * go-oversync (no canonical_request_hash there: the row count and the bundle_hash prove it) and
 * the committed bundle is replayed. PostgreSQL ends with each row once, one bundle, nothing pending.
 * One row has a nanosecond timestamp that PostgreSQL keeps in microseconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoPeer } from './support/go-peer.ts';
import { localRows, peerAvailability, startGoPeer, uuid } from './support/go-peer.ts';

const { peerPath } = await peerAvailability();
const STEPS: [string, RegExp][] = [
  ['create', /\/sync\/push-sessions$/],
  ['chunk', /\/chunks$/],
  ['commit', /\/commit$/],
];

describe.skipIf(!peerPath)('restart after a lost response, through go-oversync', () => {
  let peer: GoPeer;
  beforeAll(async () => {
    peer = await startGoPeer(peerPath!);
  });
  afterAll(() => peer?.close());

  for (const [name, pattern] of STEPS) {
    it(`finishes the push after the ${name} response was lost`, async () => {
      const user = `restart-${name}`;
      let armed = false;
      const d = await peer.device(user, {
        retry: { attempts: 1 },
        pushChunkRows: 2,
        fetch: async (input, init) => {
          const res = await fetch(input, init);
          if (armed && (init?.method ?? 'GET') === 'POST' && pattern.test(new URL(String(input)).pathname)) {
            armed = false;
            await res.text(); // the server did the work; the answer never arrives
            throw new TypeError('connection lost');
          }
          return res;
        },
      });
      await d.engine.attach(user);
      d.db.exec(
        `BEGIN; ${[1, 2, 3, 4, 5]
          .map(
            (i) =>
              `INSERT INTO typed_rows(id, name, enabled_flag, count_value, created_at) VALUES ('${uuid(i)}', 'row ${i}', 1, ${i}, '2026-05-0${i}T10:00:00.12345678${i}Z')`,
          )
          .join(';')}; COMMIT;`,
      );
      armed = true;
      await expect(d.engine.pushPending()).rejects.toMatchObject({ code: 'network_error' });
      await d.engine.close();

      const again = await d.reopen({ fetch: undefined, retry: undefined });
      expect(await again.pushPending()).toMatchObject({ outcome: 'committed', bundleSeq: 1 });
      expect(again.status).toMatchObject({ pendingCount: 0, checkpoint: 1 });
      expect((await again.pushPending()).outcome).toBe('no_change');
      expect((await peer.pgRows('typed_rows', user, 'name')).map((r) => r.name)).toEqual([1, 2, 3, 4, 5].map((i) => `row ${i}`));
      const bundles = await peer.pg.query(
        'SELECT b.source_bundle_id::int AS sbid FROM sync.bundle_log b JOIN sync.user_state u USING (user_pk) WHERE u.user_id = $1',
        [user],
      );
      expect(bundles.rows).toEqual([{ sbid: 1 }]);
      expect(localRows(d.db, 'typed_rows', 'created_at').map((r) => r.created_at)).toEqual(
        [1, 2, 3, 4, 5].map((i) => `2026-05-0${i}T10:00:00.123457+00:00`),
      );
      // A fresh device sees the same rows.
      const fresh = await peer.device(user);
      await fresh.engine.attach(user);
      expect(localRows(fresh.db, 'typed_rows')).toEqual(localRows(d.db, 'typed_rows'));
    });
  }
});
