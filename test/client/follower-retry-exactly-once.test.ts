/**
 * A follower's write survives a leader that applied it but died before answering: the follower
 * re-sends it to the next leader, which finds its id in the request ledger and answers with the
 * recorded result instead of applying it again. Real BroadcastChannel, real SQLite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FollowerLink } from '../../src/follower-link.ts';
import { LeaderServer } from '../../src/leader-server.ts';
import type { TabMessage } from '../../src/tab-messages.ts';
import { WorkerService } from '../../worker/database/worker-service.ts';
import { serviceHandler } from './service-request-handler.ts';

const schema = { version: 1, migrations: ['CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE)'] };
const channels: BroadcastChannel[] = [];

function channel(name: string, onMessage: (m: TabMessage) => void): BroadcastChannel {
  const c = new BroadcastChannel(name);
  c.onmessage = (event) => onMessage((event as MessageEvent<TabMessage>).data);
  channels.push(c);
  return c;
}

afterEach(() => {
  for (const c of channels.splice(0)) c.close();
});

describe('follower calls across a leader hand-over', () => {
  it('a write applied by a leader that died before answering is not applied again by the next one', async () => {
    const name = `handover-${Math.random()}`;
    const service = new WorkerService();
    expect((await service.open({ name: 'n', schema, storage: 'memory' }, { onCommit: () => {} })).ok).toBe(true);

    // Leader 1 applies requests but its answers never leave the tab (it "crashes" after commit).
    let leader1Applied = 0;
    const leader1Channel = channel(name, (m) => {
      if (m.type === 'request') leader1.serve(m);
    });
    const leader1 = new LeaderServer(
      (m) => {
        if (m.type === 'response') {
          leader1Applied++;
          return;
        }
        leader1Channel.postMessage(m);
      },
      'leader-1',
      serviceHandler(service),
      1,
    );

    let follower!: FollowerLink;
    const followerChannel = channel(name, (m) => {
      if (m.type === 'response') follower.onResponse(m);
      if (m.type === 'leader') follower.onNewLeader();
    });
    follower = new FollowerLink((m) => followerChannel.postMessage(m), 'tab-f', 5_000);

    const pending = follower.send({
      op: 'write',
      unit: { statements: [{ sql: 'INSERT INTO notes (body) VALUES (?) RETURNING id', params: ['once'] }] },
    });
    await expect.poll(() => leader1Applied).toBe(1);
    leader1Channel.close();

    // Leader 2 takes over the same file and announces itself; the follower re-sends.
    const leader2Channel = channel(name, (m) => {
      if (m.type === 'request') leader2.serve(m);
    });
    const leader2 = new LeaderServer((m) => leader2Channel.postMessage(m), 'leader-2', serviceHandler(service), 1);
    leader2.announce();

    const outcome = await pending;
    expect(outcome).toEqual({ ok: true, value: [{ changes: 1, lastInsertRowid: 1, rows: [{ id: 1 }] }] });
    const count = await service.query('SELECT count(*) AS c FROM notes');
    expect(count.ok && count.value.rows[0]!.c).toBe(1);
    await service.close();
  });

  it('a call nobody answers fails with leader_timeout and a hint about writes', async () => {
    const c = channel(`silent-${Math.random()}`, () => {});
    const follower = new FollowerLink((m) => c.postMessage(m), 'tab-s', 50);
    const outcome = await follower.send({ op: 'write', unit: { statements: [{ sql: 'SELECT 1' }] } });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.code).toBe('leader_timeout');
      expect(outcome.error.message).toMatch(/may still be applied/);
    }
  });
});

describe('follower call timeouts', () => {
  it('sync operations get a long timeout, other calls the configured one', async () => {
    const c = channel(`slow-${Math.random()}`, () => {});
    const follower = new FollowerLink((m) => c.postMessage(m), 'tab-t', 30);
    let syncSettled = false;
    const syncCall = follower.send({ op: 'sync', method: 'hydrate', args: [] }).then(() => {
      syncSettled = true;
    });
    const query = await follower.send({ op: 'query', sql: 'SELECT 1' });
    expect(!query.ok && query.error.code).toBe('leader_timeout');
    expect(syncSettled).toBe(false);
    follower.failAll('closed', 'test over');
    await syncCall;
  });
});
