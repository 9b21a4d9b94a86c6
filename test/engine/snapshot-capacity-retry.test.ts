/**
 * Snapshot capacity retries per `snapshot-capacity/retry.json`: `Retry-After` counts only as a
 * positive whole number of seconds; capacity 503s (`snapshot_build_capacity`,
 * `snapshot_chunk_capacity`) wait Retry-After (or the 1 s fallback) plus positive jitter, within
 * a 30 s elapsed-time budget, then fail with the typed code.
 */
import { describe, expect, it } from 'vitest';
import { SyncError } from '../../worker/engine/index.ts';
import { parseRetryAfter } from '../../worker/engine/transport.ts';
import { loadContract } from '../contracts.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { scalar } from './support/sqlite.ts';

const fixture = loadContract<any>('snapshot-capacity/retry.json');
const USERS = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';

describe('Retry-After parsing (retry_after_cases)', () => {
  for (const c of fixture.retry_after_cases) {
    it(JSON.stringify(c.wire), () => expect(parseRetryAfter(c.wire)).toBe(c.expected_millis));
  }
});

function clockWithTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
    random: () => 0.5,
  };
}

describe('capacity retry during hydrate', () => {
  for (const code of fixture.capacity_error_codes as string[]) {
    it(`${code}: waits Retry-After plus positive jitter, then succeeds`, async () => {
      const clock = clockWithTime();
      const s = await openEngine(USERS, [{ table: 'users', syncKey: 'id' }], { clock });
      await attachStartedEmpty(s);
      const session = { snapshot_id: 's1', snapshot_bundle_seq: 4, row_count: 1, byte_count: 10, expires_at: '2099-01-01T00:00:00Z' };
      const chunk = {
        snapshot_id: 's1',
        snapshot_bundle_seq: 4,
        rows: [{ schema: 'main', table: 'users', key: { id: 'u1' }, row_version: 4, payload: { id: 'u1', name: 'Ada' } }],
        next_row_ordinal: 1,
        byte_count: 10,
        has_more: false,
      };
      const busy = { status: 503, body: { error: code, message: 'busy' }, headers: { 'Retry-After': '2' } };
      if (code === 'snapshot_build_capacity') s.server.on('POST', '/sync/snapshot-sessions', busy);
      s.server.on('POST', '/sync/snapshot-sessions', { status: 200, body: session });
      if (code === 'snapshot_chunk_capacity') s.server.on('GET', '/sync/snapshot-sessions/s1', busy);
      s.server.on('GET', '/sync/snapshot-sessions/s1', { status: 200, body: chunk });
      s.server.always('DELETE', '/sync/snapshot-sessions/s1', { status: 204 });
      const res = await s.engine.hydrate();
      expect(res).toMatchObject({ outcome: 'applied_snapshot', checkpoint: 4, rowsApplied: 1 });
      expect(clock.sleeps).toEqual([2000 * (1 + 0.5 * fixture.defaults.positive_jitter_ratio)]);
      expect(scalar(s.db, "SELECT name FROM users WHERE id = 'u1'")).toBe('Ada');
    });
  }

  it('gives up with the typed code once the 30 s budget would be exceeded; nothing applied', async () => {
    const clock = clockWithTime();
    const s = await openEngine(USERS, [{ table: 'users', syncKey: 'id' }], { clock });
    await attachStartedEmpty(s);
    s.db.exec("INSERT INTO users(id, name) VALUES ('local', 'Mine')");
    s.server.always('POST', '/sync/snapshot-sessions', { status: 503, body: { error: 'snapshot_build_capacity', message: 'busy' } });
    const err = (await s.engine.hydrate().catch((e: unknown) => e)) as SyncError;
    expect(err).toBeInstanceOf(SyncError);
    expect(err.code).toBe('snapshot_build_capacity');
    const total = clock.sleeps.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(fixture.defaults.max_wait_millis);
    expect(clock.sleeps.every((ms) => ms === 1500)).toBe(true); // 1 s fallback × (1 + 0.5 jitter)
    expect(scalar(s.db, 'SELECT COUNT(*) FROM users')).toBe(1);
  });
});
