/**
 * The seed lease after attach, through go-oversync's server (which answers the lease states as
 * ours does; recovery.ts `reconnect`): a seed push whose commit answer was lost is refused on its
 * retry (`push_session_invalid`: the lease must be absent once the scope is initialized) and the
 * next sync settles it as `already_committed`, one bundle; a lease whose pending rows all cancelled
 * out initializes the scope empty on the next sync (go-oversync's connect answers the holder
 * `initialize_empty`); an expired lease is renewed and the same rows seed the account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoPeer } from './support/go-peer.ts';
import { blobUuid, localRows, peerAvailability, startGoPeer } from './support/go-peer.ts';

const { peerPath } = await peerAvailability();

describe.skipIf(!peerPath)('seed lease settled by sync(), through go-oversync', () => {
  let peer: GoPeer;
  beforeAll(async () => {
    peer = await startGoPeer(peerPath!);
  });
  afterAll(() => peer?.close());

  const insertUsers = (ids: number[]): string =>
    ids.map((i) => `INSERT INTO users(id, name, email) VALUES (${blobUuid(i)}, 'user ${i}', 'u${i}@example.com')`).join(';');

  it('seed commit answer lost: the next sync replays it as already committed', async () => {
    let armed = false;
    const d = await peer.device('seed-lost', {
      retry: { attempts: 1 },
      pushChunkRows: 2,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (armed && /\/commit$/.test(new URL(String(input)).pathname)) {
          armed = false;
          await res.text(); // go-oversync committed; the answer never arrives
          throw new TypeError('connection lost');
        }
        return res;
      },
    });
    d.db.exec(insertUsers([1, 2, 3]));
    expect(await d.engine.attach('seed-lost')).toMatchObject({ outcome: 'seeded_from_local' });
    armed = true;
    await expect(d.engine.sync()).rejects.toMatchObject({ code: 'network_error' });
    await d.engine.sync();
    expect(d.engine.status).toMatchObject({ userId: 'seed-lost', pendingCount: 0, lastError: null });
    expect((await peer.pgRows('users', 'seed-lost', 'name')).map((r) => r.name)).toEqual(['user 1', 'user 2', 'user 3']);
    const bundles = await peer.pg.query(
      'SELECT count(*)::int AS n FROM sync.bundle_log b JOIN sync.user_state u USING (user_pk) WHERE u.user_id = $1',
      ['seed-lost'],
    );
    expect(bundles.rows[0].n).toBe(1);
  });

  it('every pending row cancelled out: the next sync initializes the account empty', async () => {
    const a = await peer.device('seed-empty');
    a.db.exec(insertUsers([11]));
    expect(await a.engine.attach('seed-empty')).toMatchObject({ outcome: 'seeded_from_local' });
    a.db.exec(`DELETE FROM users WHERE id = ${blobUuid(11)}`);
    await a.engine.sync();
    const b = await peer.device('seed-empty');
    expect(await b.engine.attach('seed-empty')).toMatchObject({ outcome: 'used_remote_state' });
    b.db.exec(insertUsers([12]));
    await b.engine.sync();
    await a.engine.sync();
    expect(localRows(a.db, 'users', 'name')).toEqual([{ name: 'user 12' }]);
  });

  it('expired lease: sync() renews it and the same rows seed the account', async () => {
    const d = await peer.device('seed-expired');
    d.db.exec(insertUsers([21, 22]));
    expect(await d.engine.attach('seed-expired')).toMatchObject({ outcome: 'seeded_from_local' });
    await peer.pg.query(
      `UPDATE sync.scope_state SET lease_expires_at = now() - interval '1 minute'
        WHERE user_pk = (SELECT user_pk FROM sync.user_state WHERE user_id = 'seed-expired')`,
    );
    await d.engine.sync();
    expect(d.engine.status).toMatchObject({ userId: 'seed-expired', pendingCount: 0, lastError: null });
    expect((await peer.pgRows('users', 'seed-expired', 'name')).map((r) => r.name)).toEqual(['user 21', 'user 22']);
  });
});
