// Pull past the latest bundle: a go-oversync 1f1118f source gets 200 with an empty page at the
// latest bundle (as go-oversync answers), a contracts source 409 checkpoint_ahead. The server
// option wireDialect forces one dialect for every session and read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goJsonBundleHash } from '../../protocol/go-json-hash.ts';
import { bundleHash, pushRequestHash } from '../../protocol/hashes.ts';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const row = (name: string, weight: string): PushRow => ({
  schema: 'business',
  table: 'tags',
  key: { name },
  op: 'INSERT',
  base_row_version: 0,
  payload: { name, weight },
});

describe('auto: per source', () => {
  let h: StartedSyncServer;
  beforeAll(async () => {
    h = await startSyncServer({ purpose: 'dialect_pull_after_latest', wireDialect: 'auto' });
  });
  afterAll(() => h?.close());

  it('numbers source: 200 and an empty page at the latest; strings source: 409 checkpoint_ahead', async () => {
    const go = new RawSyncClient(h.baseUrl, h.tokenFor('u1'), 'go-device');
    const ts = go.withSource('ts-device');
    await go.connect(false);
    expect((await go.push(1, [row('a', '1')])).status).toBe(200);
    const rows = [row('b', '2')];
    expect((await ts.push(1, rows, 1000, { canonical_request_hash: await pushRequestHash(rows) })).status).toBe(200);

    const ahead = await go.pull('?after_bundle_seq=7');
    expect(ahead.status).toBe(200);
    expect(ahead.body).toEqual({ stable_bundle_seq: 2, bundles: [], has_more: false });

    const refused = await ts.pull('?after_bundle_seq=7');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('checkpoint_ahead');

    // A target past the latest stays 409 for both.
    expect((await go.pull('?after_bundle_seq=0&target_bundle_seq=9')).status).toBe(409);
  });
});

describe('forced dialects', () => {
  it("'jcs-numeric-strings': a session without canonical_request_hash is strings; pull past the latest is 409", async () => {
    const h = await startSyncServer({ purpose: 'dialect_forced_strings', wireDialect: 'jcs-numeric-strings' });
    try {
      const go = new RawSyncClient(h.baseUrl, h.tokenFor('u2'), 'go-device');
      await go.connect(false);
      const committed = await go.push(1, [row('a', '1')]);
      const page = await go.committedRows(1);
      expect(page.body.rows[0].payload).toEqual({ name: 'a', color: null, weight: '1', meta: null });
      expect(await bundleHash(page.body.rows)).toBe(committed.body.bundle_hash);
      // JSON numbers are refused in a strings session.
      const created = await go.createPush(2, 1);
      const chunk = await go.chunk(created.body.push_id, 0, [{ ...row('c', '1'), payload: { name: 'c', weight: 3 } }]);
      expect(chunk.status).toBe(400);
      expect((await go.pull('?after_bundle_seq=5')).status).toBe(409);
    } finally {
      await h.close();
    }
  });

  it("'go-json-numbers': a session with canonical_request_hash is numbers too, and every reader gets numbers", async () => {
    const h = await startSyncServer({ purpose: 'dialect_forced_numbers', wireDialect: 'go-json-numbers' });
    try {
      const ts = new RawSyncClient(h.baseUrl, h.tokenFor('u3'), 'ts-device');
      await ts.connect(false);
      const rows = [row('a', '1')];
      const committed = await ts.push(1, rows, 1000, { canonical_request_hash: await pushRequestHash(rows) });
      expect(committed.status).toBe(200);
      const page = await ts.committedRows(1);
      expect(page.body.rows[0].payload).toEqual({ name: 'a', color: null, weight: 1, meta: null });
      expect(await goJsonBundleHash(page.body.rows)).toBe(committed.body.bundle_hash);
      const other = ts.withSource('never-pushed');
      const pulled = await other.pull('?after_bundle_seq=0');
      expect(pulled.body.bundles[0].rows[0].payload.weight).toBe(1);
      expect((await other.pull('?after_bundle_seq=5')).body).toEqual({ stable_bundle_seq: 1, bundles: [], has_more: false });
    } finally {
      await h.close();
    }
  });
});
