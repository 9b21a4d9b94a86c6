/**
 * Table-change notifications, data-driven from `invalidation/behavior/basic.json`: the engine's
 * `applied {tables}` event must name the watched tables after an incremental pull, a snapshot
 * hydrate, a committed replay, a conflict rewrite, a sync round (union of push and pull tables)
 * and a successful detach, and must stay silent for a blocked detach and an anonymous detach
 * (which only cancels metadata). Mapping: KMP's "invalidation" = our `applied` event.
 */
import { describe, expect, it } from 'vitest';
import { loadContract } from '../contracts.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';

const fixture = loadContract<{ cases: { name: string; action: string; watchTables: string[]; expectedEmission: boolean }[] }>(
  'invalidation/behavior/basic.json',
);
const SCHEMA = `
CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
CREATE TABLE posts (id TEXT PRIMARY KEY NOT NULL, user_id TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED, title TEXT NOT NULL);`;
const TABLES = [
  { table: 'users', syncKey: 'id' },
  { table: 'posts', syncKey: 'id' },
];
const user = (id: string, v: number) => ({
  schema: 'main',
  table: 'users',
  key: { id },
  op: 'INSERT',
  row_version: v,
  payload: { id, name: id },
});

const actions: Record<string, (s: EngineSetup) => Promise<void>> = {
  async incrementalPull(s) {
    await attachStartedEmpty(s);
    s.server.on('GET', '/sync/pull', {
      status: 200,
      body: {
        stable_bundle_seq: 1,
        has_more: false,
        bundles: [{ bundle_seq: 1, source_id: 'x', source_bundle_id: 1, rows: [user('u1', 1)] }],
      },
    });
    await s.engine.pullToStable();
  },
  async snapshotHydrate(s) {
    await attachStartedEmpty(s);
    s.server.on('POST', '/sync/snapshot-sessions', {
      status: 200,
      body: { snapshot_id: 's', snapshot_bundle_seq: 1, row_count: 1, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
    });
    s.server.on('GET', '/sync/snapshot-sessions/s', {
      status: 200,
      body: {
        snapshot_id: 's',
        snapshot_bundle_seq: 1,
        rows: [{ ...user('u1', 1), op: undefined }],
        next_row_ordinal: 1,
        byte_count: 1,
        has_more: false,
      },
    });
    s.server.always('DELETE', '/sync/snapshot-sessions/s', { status: 204 });
    await s.engine.hydrate();
  },
  async committedReplay(s) {
    await attachStartedEmpty(s);
    new PushResponder().install(s.server);
    s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
    await s.engine.pushPending();
  },
  async conflictRewrite(s) {
    await attachStartedEmpty(s);
    const server = new PushResponder();
    server.versions.set('users:{"id":"u1"}', { version: 4, deleted: false, payload: { id: 'u1', name: 'server' } });
    server.install(s.server);
    s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
    await s.engine.pushPending();
  },
  async syncUnion(s) {
    await attachStartedEmpty(s);
    new PushResponder().install(s.server);
    s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
    s.server.on('GET', '/sync/pull', {
      status: 200,
      body: {
        stable_bundle_seq: 2,
        has_more: false,
        bundles: [
          {
            bundle_seq: 2,
            source_id: 'y',
            source_bundle_id: 1,
            rows: [
              {
                schema: 'main',
                table: 'posts',
                key: { id: 'p1' },
                op: 'INSERT',
                row_version: 2,
                payload: { id: 'p1', user_id: 'u1', title: 't' },
              },
            ],
          },
        ],
      },
    });
    await s.engine.sync();
  },
  async successfulDetach(s) {
    await attachStartedEmpty(s);
    await s.engine.detach();
  },
  async blockedDetach(s) {
    await attachStartedEmpty(s);
    s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
    expect((await s.engine.detach()).outcome).toBe('blocked_unsynced_data');
  },
  async noopDetach(s) {
    s.db.exec("INSERT INTO users VALUES ('u1', 'Anonymous')");
    s.db.exec("UPDATE _sync_operation_state SET kind = 'remote_replace', target_user_id = 'user-a'");
    expect(await s.engine.detach()).toEqual({ outcome: 'detached', discardedChanges: 0 });
    expect(s.db.selectValue('SELECT COUNT(*) FROM users')).toBe(1);
    expect(s.db.selectValue('SELECT kind FROM _sync_operation_state')).toBe('none');
  },
};

describe('applied events (invalidation/behavior/basic.json)', () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const s = await openEngine(SCHEMA, TABLES);
      const tables = new Set<string>();
      let seen = false;
      s.engine.subscribe((e) => {
        if (e.type === 'applied') e.tables.forEach((t) => tables.add(t));
      });
      const run = actions[c.action];
      if (!run) throw new Error(`unmapped action ${c.action}`);
      // Only events from the action itself count (attach emits nothing for initialize_empty).
      await run(s);
      seen = c.watchTables.every((t) => tables.has(t));
      expect(seen).toBe(c.expectedEmission);
      if (!c.expectedEmission) expect([...tables]).toEqual([]);
    });
  }
});
