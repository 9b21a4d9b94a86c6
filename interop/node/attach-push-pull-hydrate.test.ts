/**
 * The basic lifecycle through go-oversync's example server: a first device attaches (empty),
 * seeds every table of the example schema (BLOB keys, the categories self-reference, the
 * teams ↔ team_members cycle), pushes, and PostgreSQL holds exactly those rows; a second device
 * hydrates from a snapshot; edits on either side reach the other by pull. No push downloads its
 * committed bundle back (its bundle_hash proves it in go-oversync's material).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoPeer } from './support/go-peer.ts';
import { blobUuid, foreignKeyViolations, localRows, peerAvailability, startGoPeer, uuid } from './support/go-peer.ts';

const { peerPath } = await peerAvailability();

describe.skipIf(!peerPath)('attach, push, pull, hydrate through go-oversync', () => {
  let peer: GoPeer;
  beforeAll(async () => {
    peer = await startGoPeer(peerPath!);
  });
  afterAll(() => peer?.close());

  it('seeds, hydrates a second device, and pulls edits both ways', async () => {
    const a = await peer.device('alice');
    expect(await a.engine.attach('alice')).toMatchObject({ outcome: 'started_empty' });
    a.db.exec(`BEGIN;
      INSERT INTO users(id, name, email, created_at) VALUES (${blobUuid(1)}, 'Alice', 'a@example.com', '2026-03-01T08:00:00.000Z');
      INSERT INTO posts(id, title, content, author_id) VALUES (${blobUuid(2)}, 'Hello', 'first post', ${blobUuid(1)});
      INSERT INTO categories(id, name, parent_id) VALUES ('${uuid(10)}', 'root', NULL), ('${uuid(11)}', 'child', '${uuid(10)}');
      INSERT INTO teams(id, name, captain_member_id) VALUES ('${uuid(20)}', 'Team', '${uuid(21)}');
      INSERT INTO team_members(id, name, team_id) VALUES ('${uuid(21)}', 'Captain', '${uuid(20)}');
      INSERT INTO files(id, name, data) VALUES (${blobUuid(30)}, 'f.bin', x'00ff10');
      INSERT INTO file_reviews(id, review, file_id) VALUES (${blobUuid(31)}, 'ok', ${blobUuid(30)});
      INSERT INTO typed_rows(id, name, count_value, enabled_flag, rating) VALUES ('${uuid(40)}', 'typed', 42, 1, 2.5);
      COMMIT;`);
    const pushed = await a.engine.pushPending();
    expect(pushed).toMatchObject({ outcome: 'committed', bundleSeq: 1, rowCount: 9 });
    expect(a.requests.filter((r) => r.includes('/committed-bundles/'))).toEqual([]);
    expect(a.engine.status.pendingCount).toBe(0);
    // The committed spelling of the timestamp (PostgreSQL's) is what the device now holds.
    expect(localRows(a.db, 'users', 'created_at')).toEqual([{ created_at: '2026-03-01T08:00:00+00:00' }]);

    expect(await peer.pgRows('users', 'alice', 'id::text, name, email, created_at')).toEqual([
      { id: uuid(1), name: 'Alice', email: 'a@example.com', created_at: new Date('2026-03-01T08:00:00Z') },
    ]);
    expect(await peer.pgRows('teams', 'alice', 'id::text, captain_member_id::text')).toEqual([
      { id: uuid(20), captain_member_id: uuid(21) },
    ]);
    expect(await peer.pgRows('files', 'alice', 'id::text, data')).toEqual([{ id: uuid(30), data: Buffer.from([0, 255, 16]) }]);
    expect(await peer.pgRows('typed_rows', 'alice', 'count_value::text, enabled_flag::text, rating')).toEqual([
      { count_value: '42', enabled_flag: '1', rating: 2.5 },
    ]);

    const b = await peer.device('alice');
    expect(await b.engine.attach('alice')).toMatchObject({ outcome: 'used_remote_state', snapshotRows: 9 });
    for (const table of ['users', 'posts', 'categories', 'teams', 'team_members', 'files', 'file_reviews', 'typed_rows']) {
      expect(localRows(b.db, table), table).toEqual(localRows(a.db, table));
    }
    expect(foreignKeyViolations(b.db)).toBe(0);

    b.db.exec(`UPDATE typed_rows SET count_value = -7, rating = 0.1 WHERE id = '${uuid(40)}';
               DELETE FROM files WHERE id = ${blobUuid(30)};`); // cascades to file_reviews locally
    await b.engine.sync();
    a.db.exec(`UPDATE users SET name = 'Alice A' WHERE id = ${blobUuid(1)}`);
    await a.engine.sync();
    await b.engine.sync();
    for (const table of ['users', 'files', 'file_reviews', 'typed_rows']) {
      expect(localRows(b.db, table), table).toEqual(localRows(a.db, table));
    }
    expect(localRows(a.db, 'typed_rows', 'count_value, rating')).toEqual([{ count_value: -7, rating: 0.1 }]);
    expect(localRows(a.db, 'files')).toEqual([]);
    expect(await peer.pgRows('file_reviews', 'alice')).toEqual([]);
    expect(await peer.pgRows('typed_rows', 'alice', 'count_value::text, rating')).toEqual([{ count_value: '-7', rating: 0.1 }]);
    expect(a.engine.status.checkpoint).toBe(b.engine.status.checkpoint);
    for (const d of [a, b]) expect(d.requests.filter((r) => r.includes('/committed-bundles/'))).toEqual([]);
  });
});
