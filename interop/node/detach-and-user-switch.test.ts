/**
 * Detach and user switch on one database through go-oversync's server: detach is blocked while
 * changes are unsynced (unless forced) and wipes the user's synced rows; the next user sees none of
 * the previous user's data and starts at source bundle 1; the first user, back again, hydrates
 * exactly their rows and continues their own sequence. Checked in PostgreSQL per scope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoPeer } from './support/go-peer.ts';
import { blobUuid, localRows, peerAvailability, startGoPeer, uuid } from './support/go-peer.ts';

const { peerPath } = await peerAvailability();

describe.skipIf(!peerPath)('detach and user switch through go-oversync', () => {
  let peer: GoPeer;
  beforeAll(async () => {
    peer = await startGoPeer(peerPath!);
  });
  afterAll(() => peer?.close());

  it('switches users without leaking data or breaking source sequencing', async () => {
    let current = 'erin';
    const d = await peer.device('erin', { getToken: () => peer.token(current) });
    await d.engine.attach('erin');
    d.db.exec(`INSERT INTO users(id, name, email) VALUES (${blobUuid(1)}, 'Erin 1', 'e1@example.com')`);
    await d.engine.sync();
    d.db.exec(`INSERT INTO users(id, name, email) VALUES (${blobUuid(2)}, 'Erin 2', 'e2@example.com')`);
    await d.engine.sync();
    const source = d.engine.status.sourceId;

    d.db.exec(`UPDATE users SET name = 'unsynced' WHERE id = ${blobUuid(1)}`);
    expect(await d.engine.detach()).toEqual({ outcome: 'blocked_unsynced_data', pendingCount: 1 });
    await d.engine.sync();
    expect(await d.engine.detach()).toEqual({ outcome: 'detached', discardedChanges: 0 });
    expect(localRows(d.db, 'users')).toEqual([]);
    expect(d.engine.status).toMatchObject({ userId: null, sourceId: source, checkpoint: 0, pendingCount: 0 });

    current = 'frank';
    await expect(d.engine.attach('frank')).resolves.toMatchObject({ outcome: 'started_empty' });
    d.db.exec(`INSERT INTO typed_rows(id, name, enabled_flag) VALUES ('${uuid(3)}', 'Frank', 1)`);
    expect(await d.engine.pushPending()).toMatchObject({ outcome: 'committed' });
    expect(localRows(d.db, 'typed_rows', 'name')).toEqual([{ name: 'Frank' }]);
    expect(await peer.pgRows('typed_rows', 'frank', 'name')).toEqual([{ name: 'Frank' }]);
    expect(d.db.selectValue(`SELECT next_source_bundle_id FROM _sync_source_state WHERE user_id = 'frank'`)).toBe(2);
    d.db.exec(`INSERT INTO typed_rows(id, name, enabled_flag) VALUES ('${uuid(4)}', 'Frank unsynced', 0)`);
    expect(await d.engine.detach({ force: true })).toEqual({ outcome: 'detached', discardedChanges: 1 });

    current = 'erin';
    await expect(d.engine.attach('erin')).resolves.toMatchObject({ outcome: 'used_remote_state', snapshotRows: 2 });
    expect(localRows(d.db, 'users', 'name').map((r) => r.name)).toEqual(['unsynced', 'Erin 2']);
    expect(localRows(d.db, 'typed_rows')).toEqual([]);
    d.db.exec(`INSERT INTO typed_rows(id, name, enabled_flag) VALUES ('${uuid(5)}', 'Erin again', 1)`);
    await d.engine.sync();
    expect(d.db.selectValue(`SELECT next_source_bundle_id FROM _sync_source_state WHERE user_id = 'erin'`)).toBe(5);
    expect(await peer.pgRows('typed_rows', 'erin', 'name')).toEqual([{ name: 'Erin again' }]);
    expect(await peer.pgRows('typed_rows', 'frank', 'name')).toEqual([{ name: 'Frank' }]);
    expect(await peer.pgRows('users', 'frank')).toEqual([]);
  });
});
