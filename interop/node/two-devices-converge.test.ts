/**
 * Two devices of one user edit offline, then sync in turn through go-oversync's server; both end
 * equal to each other and to PostgreSQL, with FK integrity, including the teams ↔ team_members
 * cycle, the categories self-reference (a cascade on delete) and BLOB-keyed files/reviews.
 * A third round checks that a device with nothing to do makes no push and stays put.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoPeer } from './support/go-peer.ts';
import { blobUuid, foreignKeyViolations, localRows, peerAvailability, startGoPeer, uuid } from './support/go-peer.ts';

const { peerPath } = await peerAvailability();
const TABLES = ['users', 'posts', 'categories', 'teams', 'team_members', 'files', 'file_reviews', 'typed_rows'];

describe.skipIf(!peerPath)('two devices converge through go-oversync', () => {
  let peer: GoPeer;
  beforeAll(async () => {
    peer = await startGoPeer(peerPath!);
  });
  afterAll(() => peer?.close());

  it('converges after offline edits on both devices', async () => {
    const a = await peer.device('bob');
    const b = await peer.device('bob');
    expect(await a.engine.attach('bob')).toMatchObject({ outcome: 'started_empty' });
    a.db.exec(`BEGIN;
      INSERT INTO categories(id, name, parent_id) VALUES ('${uuid(1)}', 'root', NULL), ('${uuid(2)}', 'mid', '${uuid(1)}'), ('${uuid(3)}', 'leaf', '${uuid(2)}');
      INSERT INTO teams(id, name, captain_member_id) VALUES ('${uuid(10)}', 'Reds', '${uuid(11)}');
      INSERT INTO team_members(id, name, team_id) VALUES ('${uuid(11)}', 'Ann', '${uuid(10)}'), ('${uuid(12)}', 'Ben', '${uuid(10)}');
      COMMIT;`);
    await a.engine.sync();
    expect(await b.engine.attach('bob')).toMatchObject({ outcome: 'used_remote_state' });

    // Offline on both.
    a.db.exec(`BEGIN;
      INSERT INTO files(id, name, data) VALUES (${blobUuid(20)}, 'a.txt', x'61');
      INSERT INTO file_reviews(id, review, file_id) VALUES (${blobUuid(21)}, 'from A', ${blobUuid(20)});
      UPDATE teams SET captain_member_id = '${uuid(12)}' WHERE id = '${uuid(10)}';
      DELETE FROM categories WHERE id = '${uuid(2)}';
      COMMIT;`); // cascades to the leaf locally
    b.db.exec(`BEGIN;
      INSERT INTO users(id, name, email) VALUES (${blobUuid(30)}, 'Bob B', 'b@example.com');
      INSERT INTO posts(id, title, content, author_id) VALUES (${blobUuid(31)}, 'B post', 'x', ${blobUuid(30)});
      INSERT INTO typed_rows(id, name, count_value, enabled_flag) VALUES ('${uuid(32)}', 'from B', 123456789012345, 1);
      UPDATE team_members SET name = 'Ben B' WHERE id = '${uuid(12)}';
      COMMIT;`);
    await a.engine.sync();
    await b.engine.sync();
    await a.engine.sync();

    for (const t of TABLES) expect(localRows(a.db, t), t).toEqual(localRows(b.db, t));
    for (const d of [a, b]) {
      expect(foreignKeyViolations(d.db)).toBe(0);
      expect(d.engine.status.pendingCount).toBe(0);
    }
    expect(a.engine.status.checkpoint).toBe(b.engine.status.checkpoint);
    expect(localRows(a.db, 'categories', 'id')).toEqual([{ id: uuid(1) }]);
    expect((await peer.pgRows('categories', 'bob', 'id::text')).map((r) => r.id)).toEqual([uuid(1)]);
    expect(await peer.pgRows('teams', 'bob', 'captain_member_id::text')).toEqual([{ captain_member_id: uuid(12) }]);
    expect((await peer.pgRows('team_members', 'bob', 'name')).map((r) => r.name)).toEqual(['Ann', 'Ben B']);
    expect(await peer.pgRows('posts', 'bob', 'title, author_id::text')).toEqual([{ title: 'B post', author_id: uuid(30) }]);
    expect(await peer.pgRows('file_reviews', 'bob', 'review, file_id::text')).toEqual([{ review: 'from A', file_id: uuid(20) }]);
    expect(await peer.pgRows('typed_rows', 'bob', 'count_value::text')).toEqual([{ count_value: '123456789012345' }]);

    // Deleting the team cascades its members on the server and on both devices.
    b.db.exec(
      `BEGIN; UPDATE teams SET captain_member_id = NULL WHERE id = '${uuid(10)}'; DELETE FROM teams WHERE id = '${uuid(10)}'; COMMIT;`,
    );
    await b.engine.sync();
    await a.engine.sync();
    for (const d of [a, b]) {
      expect(localRows(d.db, 'teams')).toEqual([]);
      expect(localRows(d.db, 'team_members')).toEqual([]);
    }
    expect(await peer.pgRows('team_members', 'bob')).toEqual([]);

    // Nothing to do: no push, same checkpoint.
    const before = a.requests.length;
    const res = await a.engine.sync();
    expect(res.push).toMatchObject({ outcome: 'no_change' });
    expect(a.requests.slice(before).filter((r) => r.includes('push-sessions'))).toEqual([]);
    expect(a.engine.status.checkpoint).toBe(b.engine.status.checkpoint);
  });
});
