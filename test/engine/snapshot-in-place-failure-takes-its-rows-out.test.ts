/**
 * A snapshot written in place on a fresh device is still all-or-nothing: a bad row in a later
 * chunk, or a process that stops mid-download (the next engine open), takes every row the
 * snapshot wrote out of the tables again with its row version, the checkpoint stays, and what
 * the app wrote meanwhile stays as a pending change. The next hydrate then applies normally.
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT, n INTEGER)';
const TABLES = [{ table: 'users', syncKey: 'id' }];
const good = (id: string, v: number) => ({
  schema: 'main',
  table: 'users',
  key: { id },
  row_version: v,
  payload: { id, name: id, n: '1' },
});

/**
 * Scripts snapshot `id` answering chunks by cursor (2 rows each); the chunk after row 2 waits for
 * `second` (the app writes meanwhile) and is then answered by `answer`.
 */
function scriptSnapshot(s: EngineSetup, id: string, snapshotRows: unknown[], second: Promise<void>, answer?: () => Promise<never>): void {
  s.server.on('POST', '/sync/snapshot-sessions', {
    status: 200,
    body: { snapshot_id: id, snapshot_bundle_seq: 7, row_count: snapshotRows.length, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
  });
  s.server.always('GET', `/sync/snapshot-sessions/${id}`, async (req) => {
    const after = Number(req.query.after_row_ordinal);
    if (after > 0) {
      await second;
      if (answer) return answer();
    }
    const part = snapshotRows.slice(after, after + 2);
    return {
      status: 200,
      body: {
        snapshot_id: id,
        snapshot_bundle_seq: 7,
        rows: part,
        next_row_ordinal: after + part.length,
        byte_count: 1,
        has_more: after + part.length < snapshotRows.length,
      },
    };
  });
}

function firstChunkIn(s: EngineSetup): Promise<void> {
  return new Promise((resolve) => {
    const stop = s.engine.subscribe((e) => {
      if (e.type === 'status' && e.status.progress?.done === 2) {
        stop();
        resolve();
      }
    });
  });
}

/** Starts a hydrate whose first chunk lands in place; the app then inserts row `mine`; returns the hydrate. */
async function hydrateWithAppWrite(s: EngineSetup, id: string, later: unknown, answer?: () => Promise<never>): Promise<Promise<unknown>> {
  let release!: () => void;
  const second = new Promise<void>((r) => (release = r));
  scriptSnapshot(s, id, [good('a', 1), good('b', 2), later, good('d', 4)], second, answer);
  const landed = firstChunkIn(s);
  const done = s.engine.hydrate().catch((e: unknown) => e);
  await landed;
  expect(rows(s.db, 'SELECT id FROM users ORDER BY id').map((r) => r.id)).toEqual(['a', 'b']);
  s.db.exec("INSERT INTO users VALUES ('mine', 'written during the hydrate', 5)");
  release();
  return done;
}

function expectAsBeforeWithAppWrite(s: EngineSetup): void {
  expect(rows(s.db, 'SELECT id, name FROM users')).toEqual([{ id: 'mine', name: 'written during the hydrate' }]);
  expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state')).toBe(0);
  expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows')).toEqual([{ key_json: '{"id":"mine"}', op: 'INSERT' }]);
  expect(scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state')).toBe(0);
  expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_snapshot_stage')).toBe(0);
}

describe('a snapshot written in place that does not finish', () => {
  it('takes its rows out when a later chunk holds a bad row', async () => {
    const s = await openEngine(SCHEMA, TABLES, { snapshotChunkRows: 2, retry: { attempts: 1 } });
    await attachStartedEmpty(s);
    s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
    const bad = { ...good('c', 3), payload: { id: 'c', name: 'c', n: '01' } };
    const err = await hydrateWithAppWrite(s, 'bad', bad);
    expect(err).toMatchObject({ code: 'bad_server_response' });
    expect((err as Error).message).toContain('snapshot row 3');
    expectAsBeforeWithAppWrite(s);

    scriptSnapshot(s, 'good', [good('a', 1), good('b', 2)], Promise.resolve());
    await expect(s.engine.hydrate()).resolves.toMatchObject({ outcome: 'applied_snapshot', checkpoint: 7, rowsApplied: 2 });
    expect(rows(s.db, 'SELECT id FROM users ORDER BY id').map((r) => r.id)).toEqual(['a', 'b', 'mine']);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')).toBe(1);
  });

  it('takes its rows out when the engine opens after the process stopped mid-download', async () => {
    const s = await openEngine(SCHEMA, TABLES, { snapshotChunkRows: 2, retry: { attempts: 1 } });
    await attachStartedEmpty(s);
    s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
    // The second chunk never comes back: the process is gone, nothing of the engine runs on.
    let asked!: () => void;
    const secondAsked = new Promise<void>((r) => (asked = r));
    void hydrateWithAppWrite(s, 'stopped', good('c', 3), () => {
      asked();
      return new Promise<never>(() => undefined);
    });
    await secondAsked;
    expect(rows(s.db, 'SELECT id FROM users ORDER BY id').map((r) => r.id)).toEqual(['a', 'b', 'mine']);

    const again = await s.reopen();
    s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', TABLES) });
    expectAsBeforeWithAppWrite(s);
    scriptSnapshot(s, 'after', [good('a', 1), good('b', 2), good('c', 3)], Promise.resolve());
    await expect(again.hydrate()).resolves.toMatchObject({ outcome: 'applied_snapshot', checkpoint: 7, rowsApplied: 3 });
    expect(rows(s.db, 'SELECT id FROM users ORDER BY id').map((r) => r.id)).toEqual(['a', 'b', 'c', 'mine']);
  });
});
