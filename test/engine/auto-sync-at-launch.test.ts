/**
 * With `autoSync`, opening an engine over a database that is already attached runs one sync at
 * once (offline writes and a push interrupted by a closed tab go out at launch), without waiting
 * for a write or the interval. An anonymous database does nothing on its own.
 */
import { expect, it } from 'vitest';
import type { SyncEvent } from '../../worker/engine/index.ts';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const TABLES = [{ table: 'users', syncKey: 'id' }];

it('syncs at launch when attached, not when anonymous', async () => {
  const s = await openEngine(SCHEMA, TABLES, { autoSync: { debounceMs: 10_000, intervalMs: 0 } });
  s.db.exec("INSERT INTO users VALUES ('anon', 'x')");
  expect(s.server.requests).toHaveLength(0); // anonymous: no background network
  await attachStartedEmpty(s);
  s.db.exec("INSERT INTO users VALUES ('offline', 'y')");
  await s.engine.close();

  const server = new PushResponder();
  server.install(s.server);
  s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', TABLES) });
  s.server.always('GET', '/sync/pull', { status: 200, body: { stable_bundle_seq: 1, bundles: [], has_more: false } });
  const again = await s.reopen();
  await new Promise<void>((resolve) => {
    const off = again.subscribe((e: SyncEvent) => {
      if (e.type === 'status' && e.status.phase === 'idle' && e.status.lastSyncAt !== null) {
        off();
        resolve();
      }
    });
  });
  expect(server.committed).toHaveLength(1);
  expect(server.committed[0]!.rows.map((r) => r.key.id).sort()).toEqual(['anon', 'offline']);
  expect(again.status.pendingCount).toBe(0);
  await again.close();
});
