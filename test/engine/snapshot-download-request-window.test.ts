/**
 * The snapshot download keeps several chunk requests in flight: as many as the server advertises
 * in `max_concurrent_snapshot_chunk_requests`, at most 4, with cursors predicted from `max_rows`
 * and never past the announced row count. A chunk cut short by `max_bytes` makes the predictions
 * wrong: they are abandoned and the download continues from the real `next_row_ordinal`, so every
 * row is staged exactly once and progress stays exact.
 */
import { describe, expect, it } from 'vitest';
import { capabilitiesBody, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const TABLES = [{ table: 'users', syncKey: 'id' }];
const user = (n: number) => ({
  schema: 'main',
  table: 'users',
  key: { id: `u${String(n).padStart(2, '0')}` },
  row_version: n,
  payload: { id: `u${String(n).padStart(2, '0')}`, name: `n${n}` },
});

async function setup(concurrency: number | undefined): Promise<EngineSetup> {
  const s = await openEngine(SCHEMA, TABLES, { snapshotChunkRows: 3 });
  const caps = capabilitiesBody('main', TABLES) as { bundle_limits: Record<string, number> };
  if (concurrency !== undefined) caps.bundle_limits.max_concurrent_snapshot_chunk_requests = concurrency;
  s.server.on('GET', '/sync/capabilities', { status: 200, body: caps });
  s.server.on('POST', '/sync/connect', { status: 200, body: { resolution: 'initialize_empty' } });
  await s.engine.attach('user-a');
  s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
  return s;
}

/**
 * Answers chunk requests by cursor, each only after a macrotask so that requests pile up; records
 * the most requests outstanding at once. `shortAt` cuts the chunk at that cursor to one row.
 */
function scriptSnapshot(s: EngineSetup, total: number, shortAt = -1): { maxOutstanding: () => number } {
  const all = Array.from({ length: total }, (_, i) => user(i + 1));
  let outstanding = 0;
  let max = 0;
  s.server.on('POST', '/sync/snapshot-sessions', {
    status: 200,
    body: { snapshot_id: 'w', snapshot_bundle_seq: 50, row_count: total, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
  });
  s.server.always('GET', '/sync/snapshot-sessions/w', async (req) => {
    outstanding++;
    max = Math.max(max, outstanding);
    await new Promise((r) => setTimeout(r, 5));
    outstanding--;
    const after = Number(req.query.after_row_ordinal);
    const part = all.slice(after, after + (after === shortAt ? 1 : Number(req.query.max_rows)));
    return {
      status: 200,
      body: {
        snapshot_id: 'w',
        snapshot_bundle_seq: 50,
        rows: part,
        next_row_ordinal: after + part.length,
        byte_count: 1,
        has_more: after + part.length < total,
      },
    };
  });
  return { maxOutstanding: () => max };
}

const cursors = (s: EngineSetup) => s.server.requestsTo('GET', '/sync/snapshot-sessions/w').map((r) => Number(r.query.after_row_ordinal));

describe('snapshot request window', () => {
  for (const [advertised, window] of [
    [undefined, 2],
    [1, 1],
    [2, 2],
    [3, 3],
    [8, 4],
  ] as const) {
    it(`${window} in flight when the server advertises ${advertised ?? 'nothing'}`, async () => {
      const s = await setup(advertised);
      const script = scriptSnapshot(s, 10);
      const progress: unknown[] = [];
      s.engine.subscribe(
        (e) => e.type === 'status' && e.status.phase === 'hydrating' && e.status.progress && progress.push(e.status.progress),
      );
      await expect(s.engine.hydrate()).resolves.toMatchObject({ outcome: 'applied_snapshot', checkpoint: 50, rowsApplied: 10 });
      expect(script.maxOutstanding()).toBe(window);
      expect(cursors(s)).toEqual([0, 3, 6, 9]);
      expect(progress).toEqual([
        { done: 0, total: 10 },
        { done: 3, total: 10 },
        { done: 6, total: 10 },
        { done: 9, total: 10 },
        { done: 10, total: 10 },
      ]);
      expect(scalar(s.db, 'SELECT COUNT(*) FROM users')).toBe(10);
    });
  }

  it('re-aligns after a chunk cut short by max_bytes', async () => {
    const s = await setup(8);
    scriptSnapshot(s, 10, 3);
    await expect(s.engine.hydrate()).resolves.toMatchObject({ outcome: 'applied_snapshot', rowsApplied: 10 });
    // 0, 3, 6 go out together, 9 once chunk 0 is in; the chunk at 3 holds one row, so 6 and 9
    // are abandoned and the download continues at 4: 4, 7 (10 is past the end, never asked).
    expect(cursors(s)).toEqual([0, 3, 6, 9, 4, 7]);
    expect(rows(s.db, 'SELECT id FROM users ORDER BY id').map((r) => r.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `u${String(i + 1).padStart(2, '0')}`),
    );
    expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_row_state')).toBe(10);
  });
});
