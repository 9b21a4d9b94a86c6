/**
 * The push request hash is stored while the first request is in flight, not before it. A crash
 * in between leaves a prepared outbox without a stored hash: the resumed push computes it again
 * from the frozen rows, the server (which committed the first attempt) recognises the same
 * request, and the bundle is accepted as ours exactly once — for the one-request push and for
 * the three-request push alike.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

for (const [name, pushChunkRows, pattern] of [
  ['one-request push', undefined, /\/sync\/push-sessions$/],
  ['three-request push', 2, /\/commit$/],
] as const) {
  it(`${name}: resumes with the hash computed again`, async () => {
    const user = `unstored-hash-${pushChunkRows ?? 'one'}`;
    let armed = false;
    const d = await world.device(user, {
      retry: { attempts: 1 },
      pushChunkRows,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (armed && pattern.test(new URL(String(input)).pathname)) {
          armed = false;
          await res.text(); // committed on the server; the answer is lost
          throw new TypeError('connection lost');
        }
        return res;
      },
    });
    await d.engine.attach(user);
    d.db.exec([1, 2, 3].map((i) => `INSERT INTO users(id, name) VALUES ('${uuid(i)}', 'row ${i}')`).join(';'));
    armed = true;
    await expect(d.engine.pushPending()).rejects.toMatchObject({ code: 'network_error' });
    await d.engine.close();
    const stored = d.db.selectValue('SELECT canonical_request_hash FROM _sync_outbox_bundle WHERE singleton_key = 1');
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    // The process died before the in-flight write of the hash landed.
    d.db.exec("UPDATE _sync_outbox_bundle SET canonical_request_hash = '' WHERE singleton_key = 1");

    const again = await d.reopen({ fetch: undefined, retry: undefined });
    expect(await again.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 3 });
    expect((await pgRows(world, 'users', user)).map((r) => r.name)).toEqual(['row 1', 'row 2', 'row 3']);
    const bundles = await world.server.database.query(
      'SELECT count(*)::int AS n FROM sync.bundle_log b JOIN sync.user_state u USING (user_pk) WHERE u.user_id = $1',
      [user],
    );
    expect(bundles.rows).toEqual([{ n: 1 }]);
    expect(again.status).toMatchObject({ pendingCount: 0, checkpoint: 1 });
  });
}
