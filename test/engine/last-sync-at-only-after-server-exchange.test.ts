/**
 * `status.lastSyncAt` is the time of the last successful exchange with the server: a push or a
 * pull that completed against it. Work that needs no server never sets it: an offline `attach`
 * that resumed the same user, a push with nothing to send, a sync that failed because the device
 * is offline. So an offline app does not show "synced just now".
 */
import { describe, expect, it } from 'vitest';
import { attachStartedEmpty, capabilitiesBody, instantClock, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';

const USERS = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const TABLES = [{ table: 'users', syncKey: 'id' }];
const EMPTY_PULL = { status: 200, body: { stable_bundle_seq: 0, bundles: [], has_more: false } };
const offlineFetch: typeof fetch = async () => {
  throw new TypeError('Failed to fetch');
};

describe('lastSyncAt', () => {
  it('is set by a pull and a push that reached the server, not by connect or an empty push', async () => {
    let now = 1_000_000;
    const s = await openEngine(USERS, TABLES, { clock: { ...instantClock(), now: () => now } });
    expect(s.engine.status.lastSyncAt).toBeNull();
    await attachStartedEmpty(s);
    expect(s.engine.status.lastSyncAt).toBeNull(); // connected, but nothing was pushed or pulled

    const requests = s.server.requests.length;
    expect(await s.engine.pushPending()).toMatchObject({ outcome: 'no_change' });
    expect(s.server.requests.length).toBe(requests); // nothing to send: no request
    expect(s.engine.status.lastSyncAt).toBeNull();

    s.server.on('GET', '/sync/pull', EMPTY_PULL);
    now = 2_000_000;
    await s.engine.pullToStable();
    expect(s.engine.status.lastSyncAt).toBe(2_000_000);

    const responder = new PushResponder();
    responder.install(s.server);
    s.db.exec("INSERT INTO users VALUES ('u1', 'pushed')");
    now = 3_000_000;
    await s.engine.pushPending();
    expect(responder.committed).toHaveLength(1);
    expect(s.engine.status.lastSyncAt).toBe(3_000_000);
    await s.engine.close();
  });

  it('an offline restart that resumes the user, and failed syncs while offline, leave it unset', async () => {
    const s = await openEngine(USERS, TABLES);
    await attachStartedEmpty(s);
    s.server.on('GET', '/sync/pull', EMPTY_PULL);
    await s.engine.sync();
    expect(s.engine.status.lastSyncAt).not.toBeNull();
    await s.engine.close();

    // The app restarts with no network: the engine resumes the attached user without a request.
    const engine = await s.reopen({ fetch: offlineFetch });
    engine.setOnline(false);
    const events: Array<number | null> = [];
    engine.subscribe((e) => e.type === 'status' && events.push(e.status.lastSyncAt));
    expect(await engine.attach('user-a')).toMatchObject({ status: 'connected', outcome: 'resumed' });
    expect(engine.status.lastError).toBeNull();
    expect(engine.status.lastSyncAt).toBeNull();

    s.db.exec("INSERT INTO users VALUES ('u2', 'written offline')");
    await expect(engine.sync()).rejects.toMatchObject({ code: 'network_error' });
    await expect(engine.pullToStable()).rejects.toMatchObject({ code: 'network_error' });
    expect(engine.status.lastSyncAt).toBeNull();
    expect(events.every((at) => at === null)).toBe(true);
    await engine.close();
  });

  it("an attach that takes the server's state from a snapshot is a pull: it sets lastSyncAt", async () => {
    const s = await openEngine(USERS, TABLES);
    s.server.on('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', TABLES) });
    s.server.on('POST', '/sync/connect', { status: 200, body: { resolution: 'remote_authoritative' } });
    s.server.on('POST', '/sync/snapshot-sessions', {
      status: 200,
      body: { snapshot_id: 'snap-1', snapshot_bundle_seq: 3, row_count: 0, byte_count: 0, expires_at: '2999-01-01T00:00:00Z' },
    });
    s.server.on('GET', /^\/sync\/snapshot-sessions\/snap-1/, {
      status: 200,
      body: { snapshot_id: 'snap-1', snapshot_bundle_seq: 3, rows: [], next_row_ordinal: 0, has_more: false },
    });
    s.server.always('DELETE', /^\/sync\/snapshot-sessions\/snap-1/, { status: 204 });
    const res = await s.engine.attach('user-a');
    expect(res).toMatchObject({ status: 'connected', outcome: 'used_remote_state' });
    expect(s.engine.status.lastSyncAt).not.toBeNull();
    await s.engine.close();
  });
});
