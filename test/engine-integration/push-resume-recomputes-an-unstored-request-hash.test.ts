/**
 * The push request hash is not stored with the frozen outbox (it is a function of the frozen rows;
 * storing it cost a durable commit on every push). A push whose answer is lost leaves a prepared
 * outbox without a hash: the resumed push computes it again from the frozen rows, the server
 * (which committed the first attempt) recognises the same request, and the bundle is accepted as
 * ours exactly once — for the one-request push and for the three-request push alike. An outbox
 * frozen by an earlier version, with the hash stored, resumes with that hash.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { pgRows, startWorld, uuid } from './support/devices.ts';
import { LostAnswers } from './support/lost-answers.ts';

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
    const lost = new LostAnswers();
    const d = await world.device(user, { retry: { attempts: 1 }, pushChunkRows, fetch: lost.fetch });
    await d.engine.attach(user);
    d.db.exec([1, 2, 3].map((i) => `INSERT INTO users(id, name) VALUES ('${uuid(i)}', 'row ${i}')`).join(';'));
    lost.loseNext(pattern);
    await expect(d.engine.pushPending()).rejects.toMatchObject({ code: 'network_error' });
    await d.engine.close();
    const outbox = d.db.selectArray('SELECT state, canonical_request_hash FROM _sync_outbox_bundle WHERE singleton_key = 1');
    expect(outbox).toEqual(['prepared', '']);

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

it('an outbox frozen with its hash stored (an earlier version) resumes with that hash', async () => {
  const user = 'stored-hash';
  const lost = new LostAnswers();
  const sent: string[] = [];
  const d = await world.device(user, {
    retry: { attempts: 1 },
    fetch: (input, init) => {
      if (new URL(String(input)).pathname.endsWith('/sync/push-sessions')) sent.push(JSON.parse(String(init?.body)).canonical_request_hash);
      return lost.fetch(input, init);
    },
  });
  await d.engine.attach(user);
  d.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(9)}', 'row 9')`);
  lost.loseNext(/\/sync\/push-sessions$/);
  await expect(d.engine.pushPending()).rejects.toMatchObject({ code: 'network_error' });
  await d.engine.close();
  expect(sent).toHaveLength(1);
  d.db.exec({ sql: 'UPDATE _sync_outbox_bundle SET canonical_request_hash = ? WHERE singleton_key = 1', bind: [sent[0]!] });

  const again = await d.reopen({ retry: undefined });
  expect(await again.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 1 });
  expect(sent).toEqual([sent[0], sent[0]]);
  expect((await pgRows(world, 'users', user)).map((r) => r.name)).toEqual(['row 9']);
});
