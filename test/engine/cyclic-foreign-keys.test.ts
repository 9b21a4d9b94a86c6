/**
 * Cyclic foreign keys (teams.captain_member_id → team_members, team_members.team_id → teams,
 * from `local-schema/business-rich-v0`): a pulled bundle holding both sides of the cycle applies
 * under deferred FKs, a snapshot whose chunk boundary splits the cycle applies in its single final
 * transaction, and a push of a locally written cycle reaches the server as one bundle.
 * (pull-snapshot/behavior/apply.json: pull-incremental-cyclic-fk…, snapshot-cyclic-fk-chunk-boundary….)
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows } from './support/sqlite.ts';

const SCHEMA = `
CREATE TABLE teams (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL,
  captain_member_id TEXT REFERENCES team_members(id) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE team_members (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL,
  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED);`;
const TABLES = [
  { table: 'teams', syncKey: 'id' },
  { table: 'team_members', syncKey: 'id' },
];
const team = {
  schema: 'main',
  table: 'teams',
  key: { id: 't1' },
  row_version: 1,
  payload: { id: 't1', name: 'T', captain_member_id: 'm1' },
};
const member = {
  schema: 'main',
  table: 'team_members',
  key: { id: 'm1' },
  row_version: 1,
  payload: { id: 'm1', name: 'M', team_id: 't1' },
};

describe('cyclic foreign keys', () => {
  it('pull applies both sides of a cycle in one bundle', async () => {
    const s = await openEngine(SCHEMA, TABLES);
    await attachStartedEmpty(s);
    s.server.on('GET', '/sync/pull', {
      status: 200,
      body: {
        stable_bundle_seq: 1,
        has_more: false,
        bundles: [
          {
            bundle_seq: 1,
            source_id: 'x',
            source_bundle_id: 1,
            rows: [
              { ...team, op: 'INSERT' },
              { ...member, op: 'INSERT' },
            ],
          },
        ],
      },
    });
    await s.engine.pullToStable();
    expect(rows(s.db, 'SELECT captain_member_id FROM teams')).toEqual([{ captain_member_id: 'm1' }]);
    expect(rows(s.db, 'PRAGMA foreign_key_check')).toEqual([]);
  });

  it('snapshot applies a cycle split across chunks', async () => {
    const s = await openEngine(SCHEMA, TABLES, { snapshotChunkRows: 1 });
    await attachStartedEmpty(s);
    s.server.on('POST', '/sync/snapshot-sessions', {
      status: 200,
      body: { snapshot_id: 's', snapshot_bundle_seq: 1, row_count: 2, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
    });
    s.server.on('GET', '/sync/snapshot-sessions/s', {
      status: 200,
      body: { snapshot_id: 's', snapshot_bundle_seq: 1, rows: [member], next_row_ordinal: 1, byte_count: 1, has_more: true },
    });
    s.server.on('GET', '/sync/snapshot-sessions/s', {
      status: 200,
      body: { snapshot_id: 's', snapshot_bundle_seq: 1, rows: [team], next_row_ordinal: 2, byte_count: 1, has_more: false },
    });
    s.server.always('DELETE', '/sync/snapshot-sessions/s', { status: 204 });
    await s.engine.hydrate();
    expect(rows(s.db, 'SELECT id FROM team_members')).toEqual([{ id: 'm1' }]);
    expect(rows(s.db, 'PRAGMA foreign_key_check')).toEqual([]);
  });

  it('push sends a locally written cycle as one bundle', async () => {
    const s = await openEngine(SCHEMA, TABLES);
    await attachStartedEmpty(s);
    const server = new PushResponder();
    server.install(s.server);
    s.db.transaction(() => {
      s.db.exec("INSERT INTO teams VALUES ('t1', 'T', 'm1')");
      s.db.exec("INSERT INTO team_members VALUES ('m1', 'M', 't1')");
    });
    await s.engine.pushPending();
    expect(server.committed[0]!.rows.map((r) => `${r.table}:${r.key.id}`)).toEqual(['teams:t1', 'team_members:m1']);
    expect(rows(s.db, 'SELECT COUNT(*) AS n FROM _sync_dirty_rows')).toEqual([{ n: 0 }]);
  });
});
