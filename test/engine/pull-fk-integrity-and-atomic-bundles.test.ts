/**
 * Pull applies each bundle in one transaction with deferred FKs: a child row before its parent
 * in the same bundle applies fine; a bundle that would leave a dangling reference is rejected
 * whole (typed `apply_failed`), earlier bundles stay applied, and the checkpoint stops before it.
 * Values that do not fit their column family (legacy JSON numbers, out-of-range int64) fail the
 * page closed before anything is applied; int64 extremes are stored exactly.
 */
import { describe, expect, it } from 'vitest';
import { SyncError } from '../../worker/engine/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = `
CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, score INTEGER);
CREATE TABLE posts (id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED, title TEXT NOT NULL);`;
const TABLES = [
  { table: 'users', syncKey: 'id' },
  { table: 'posts', syncKey: 'id' },
];

const user = (id: string, v: number, score: unknown = null) => ({
  schema: 'main',
  table: 'users',
  key: { id },
  op: 'INSERT',
  row_version: v,
  payload: { id, name: id, score },
});
const post = (id: string, userId: string, v: number) => ({
  schema: 'main',
  table: 'posts',
  key: { id },
  op: 'INSERT',
  row_version: v,
  payload: { id, user_id: userId, title: 't' },
});

async function setup() {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  return s;
}

describe('pull FK integrity', () => {
  it('applies a child before its parent within one bundle', async () => {
    const s = await setup();
    s.server.on('GET', '/sync/pull', {
      status: 200,
      body: {
        stable_bundle_seq: 1,
        has_more: false,
        bundles: [{ bundle_seq: 1, source_id: 'x', source_bundle_id: 1, rows: [post('p1', 'u1', 1), user('u1', 1)] }],
      },
    });
    await s.engine.pullToStable();
    expect(scalar(s.db, 'SELECT COUNT(*) FROM posts')).toBe(1);
    expect(rows(s.db, 'PRAGMA foreign_key_check')).toEqual([]);
  });

  it('rejects a bundle with a dangling reference whole; earlier bundles stay', async () => {
    const s = await setup();
    s.server.on('GET', '/sync/pull', {
      status: 200,
      body: {
        stable_bundle_seq: 2,
        has_more: false,
        bundles: [
          { bundle_seq: 1, source_id: 'x', source_bundle_id: 1, rows: [user('u1', 1)] },
          { bundle_seq: 2, source_id: 'x', source_bundle_id: 2, rows: [user('u2', 2), post('p9', 'missing', 2)] },
        ],
      },
    });
    const err = (await s.engine.pullToStable().catch((e: unknown) => e)) as SyncError;
    expect(err).toBeInstanceOf(SyncError);
    expect(err.code).toBe('apply_failed');
    expect(rows(s.db, 'SELECT id FROM users')).toEqual([{ id: 'u1' }]);
    expect(scalar(s.db, 'SELECT COUNT(*) FROM posts')).toBe(0);
    expect(s.engine.status.checkpoint).toBe(1);
  });
});

describe('pull value validation', () => {
  it('stores int64 extremes exactly', async () => {
    const s = await setup();
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
            rows: [user('max', 1, '9223372036854775807'), user('min', 1, '-9223372036854775808'), user('big', 1, '9007199254740993')],
          },
        ],
      },
    });
    await s.engine.pullToStable();
    expect(rows(s.db, 'SELECT id, CAST(score AS TEXT) AS s FROM users ORDER BY id')).toEqual([
      { id: 'big', s: '9007199254740993' },
      { id: 'max', s: '9223372036854775807' },
      { id: 'min', s: '-9223372036854775808' },
    ]);
  });

  for (const [name, score] of [
    ['legacy JSON number', 42],
    ['out of range', '9223372036854775808'],
    ['fraction', '1.5'],
  ] as const) {
    it(`fails closed on ${name}`, async () => {
      const s = await setup();
      s.server.on('GET', '/sync/pull', {
        status: 200,
        body: {
          stable_bundle_seq: 2,
          has_more: false,
          bundles: [
            { bundle_seq: 1, source_id: 'x', source_bundle_id: 1, rows: [user('ok', 1, '1')] },
            { bundle_seq: 2, source_id: 'x', source_bundle_id: 2, rows: [user('bad', 2, score)] },
          ],
        },
      });
      const err = (await s.engine.pullToStable().catch((e: unknown) => e)) as SyncError;
      expect(err.code).toBe('bad_server_response');
      expect(err.message).toContain('score');
      expect(scalar(s.db, 'SELECT COUNT(*) FROM users')).toBe(0); // the whole page is validated first
      expect(s.engine.status.checkpoint).toBe(0);
    });
  }
});
