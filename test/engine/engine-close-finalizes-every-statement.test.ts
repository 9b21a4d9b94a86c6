/**
 * Closing the engine finalizes every statement it prepared: after push, pull (long bundles take
 * the set-based statements) and close, SQLite's own list of the connection's prepared statements
 * (`sqlite3_next_stmt`) is empty, engine after engine on one database.
 */
import { expect, it } from 'vitest';
import type { BundleRow } from '../../protocol/index.ts';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, v INTEGER)';
const CYCLES = 12;

it('leaves no prepared statement on the connection after each close', async () => {
  const s = await openEngine(SCHEMA, [{ table: 'items', syncKey: 'id' }]);
  await attachStartedEmpty(s);
  const push = new PushResponder();
  push.install(s.server);
  // Each reopened engine asks once.
  s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody(s.options.remoteSchema, s.options.tables) });
  const serverBundles: { bundle_seq: number; source_id: string; source_bundle_id: number; rows: BundleRow[] }[] = [];
  s.server.always('GET', '/sync/pull', (req) => {
    const after = Number(req.query.after_bundle_seq ?? 0);
    const all = [
      ...serverBundles,
      ...push.committed.map((c) => ({ bundle_seq: c.seq, source_id: c.sourceId, source_bundle_id: c.sourceBundleId, rows: c.rows })),
    ].sort((a, b) => a.bundle_seq - b.bundle_seq);
    const stable = all.length ? all[all.length - 1]!.bundle_seq : 0;
    return { status: 200, body: { stable_bundle_seq: stable, has_more: false, bundles: all.filter((b) => b.bundle_seq > after) } };
  });
  const openStatements = (): number => {
    let n = 0;
    for (let p = s.sqlite3.capi.sqlite3_next_stmt(s.db.pointer!, 0); p; p = s.sqlite3.capi.sqlite3_next_stmt(s.db.pointer!, p)) n++;
    return n;
  };

  let engine = s.engine;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    s.db.exec({ sql: 'INSERT INTO items (id, v) VALUES (?, 1), (?, 2)', bind: [`local-${cycle}-a`, `local-${cycle}-b`] });
    const seq = push.nextSeq++;
    serverBundles.push({
      bundle_seq: seq,
      source_id: 'other-device',
      source_bundle_id: cycle + 1,
      rows: Array.from({ length: 20 }, (_, i) => ({
        schema: 'main',
        table: 'items',
        key: { id: `server-${cycle}-${i}` },
        op: 'INSERT',
        row_version: seq,
        payload: { id: `server-${cycle}-${i}`, v: String(i) },
      })) as BundleRow[],
    });
    await engine.sync();
    expect(openStatements()).toBeGreaterThan(0); // the engine's cache is in use while it is open
    await engine.close();
    expect(openStatements()).toBe(0);
    engine = await s.reopen();
  }
  await engine.close();
  expect(openStatements()).toBe(0);
  expect(rows(s.db, 'SELECT COUNT(*) AS n FROM items')).toEqual([{ n: CYCLES * 22 }]);
  expect(rows(s.db, 'SELECT COUNT(*) AS n FROM _sync_dirty_rows')).toEqual([{ n: 0 }]);
});
