/**
 * Automatic sync through go-oversync's server: a local write is pushed after the debounce, and
 * another device's commit reaches this device through go-oversync's watch stream (its
 * metadata-only wake-ups) without any manual call. Awaits engine events, never sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncEngine, SyncEvent } from '../../worker/engine/index.ts';
import type { GoPeer } from './support/go-peer.ts';
import { localRows, peerAvailability, startGoPeer, uuid } from './support/go-peer.ts';

const { peerPath } = await peerAvailability();

function nextEvent(engine: SyncEngine, match: (e: SyncEvent) => boolean, timeoutMs = 15_000): Promise<SyncEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('timed out waiting for an engine event'));
    }, timeoutMs);
    const off = engine.subscribe((e) => {
      if (match(e)) {
        clearTimeout(timer);
        off();
        resolve(e);
      }
    });
  });
}

describe.skipIf(!peerPath)('watch wake-ups through go-oversync', () => {
  let peer: GoPeer;
  beforeAll(async () => {
    peer = await startGoPeer(peerPath!);
  });
  afterAll(() => peer?.close());

  it("pushes after a debounced write and pulls on another device's commit", async () => {
    const a = await peer.device('iris', { autoSync: { debounceMs: 20, intervalMs: 0, watch: true } });
    const b = await peer.device('iris');
    await b.engine.attach('iris');
    b.db.exec(`INSERT INTO typed_rows(id, name, enabled_flag) VALUES ('${uuid(1)}', 'from B', 1)`);
    await b.engine.sync();

    await a.engine.attach('iris'); // hydrates, then opens the watch stream
    expect(localRows(a.db, 'typed_rows', 'name')).toEqual([{ name: 'from B' }]);

    const pushed = nextEvent(
      a.engine,
      (e) => e.type === 'status' && e.status.phase === 'idle' && e.status.pendingCount === 0 && e.status.checkpoint >= 2,
    );
    a.db.exec(`INSERT INTO typed_rows(id, name, enabled_flag) VALUES ('${uuid(2)}', 'from A', 0)`);
    a.engine.notifyLocalWrite();
    await pushed;
    expect(await peer.pgRows('typed_rows', 'iris', 'name')).toEqual([{ name: 'from B' }, { name: 'from A' }]);

    const applied = nextEvent(a.engine, (e) => e.type === 'applied' && e.tables.includes('typed_rows'));
    b.db.exec(`UPDATE typed_rows SET name = 'changed on B' WHERE id = '${uuid(1)}'`);
    await b.engine.sync();
    await applied;
    expect(localRows(a.db, 'typed_rows', 'name')).toEqual([{ name: 'changed on B' }, { name: 'from A' }]);
    expect(a.requests.some((r) => r === 'GET /sync/watch')).toBe(true);
    await a.engine.close();
  });
});
