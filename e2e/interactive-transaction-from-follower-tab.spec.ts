/**
 * An interactive transaction held open by a follower tab (its statements run on the leader's
 * worker over the BroadcastChannel): it reads its own writes, a write from the leader tab waits
 * for it and lands after its rows; and when the follower tab closes mid-transaction, the leader
 * rolls it back at once (its lease here is 10 minutes), so the waiting write goes through and
 * nothing of the closed tab's transaction stays; the same when the follower closes its database.
 * When the leader tab closes instead, the transaction dies with its worker and the follower's
 * next statement fails with `transaction_expired`.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import type { Transaction } from '../src/index.ts';
import { openDb, openTab } from './page-helpers.ts';

declare global {
  interface Window {
    /** The transaction a spec holds open in this tab. */
    heldTransaction?: Transaction;
    /** A write a spec started in this tab, and whether it finished. */
    pendingWrite?: Promise<void>;
    pendingWriteDone?: boolean;
  }
}

/** Opens a transaction in the follower tab, writes one row in it, and returns what it reads. */
function beginInFollower(follower: Page, name: string, leaseMs?: number): Promise<string[]> {
  return follower.evaluate(
    async ({ name, leaseMs }) => {
      const tx = await window.harness.db(name).beginTransaction(leaseMs === undefined ? undefined : { leaseMs });
      window.heldTransaction = tx;
      await tx.exec('INSERT INTO notes (tab, seq, body) VALUES (?, ?, ?)', ['follower', 1, 'in transaction']);
      return (await tx.query<{ body: string }>('SELECT body FROM notes ORDER BY id')).map((r) => r.body);
    },
    { name, leaseMs },
  );
}

/** Starts a write in the leader tab without waiting for it. */
function startLeaderWrite(leader: Page, name: string): Promise<void> {
  return leader.evaluate((name) => {
    window.pendingWriteDone = false;
    window.pendingWrite = window.harness
      .db(name)
      .exec("INSERT INTO notes (tab, seq, body) VALUES ('leader', 1, 'outside')")
      .then(() => {
        window.pendingWriteDone = true;
      });
  }, name);
}

test('a follower transaction reads its writes, and a leader write waits and lands after it', async ({ context }) => {
  const leader = await openTab(context);
  const follower = await openTab(context);
  const name = `follower-tx-${Date.now()}`;
  await openDb(leader, name);
  expect(await openDb(follower, name)).toBe('follower');

  expect(await beginInFollower(follower, name)).toEqual(['in transaction']);
  await startLeaderWrite(leader, name);
  // More round trips of the follower's transaction while the leader's write waits.
  const seen = await follower.evaluate(async () => {
    const tx = window.heldTransaction!;
    await tx.exec('INSERT INTO notes (tab, seq, body) VALUES (?, ?, ?)', ['follower', 2, 'also in transaction']);
    const rows: string[] = [];
    for (let i = 0; i < 5; i++)
      rows.push(...(await tx.query<{ tab: string }>("SELECT tab FROM notes WHERE tab = 'leader'")).map((r) => r.tab));
    return rows;
  });
  expect(seen).toEqual([]);
  expect(await leader.evaluate(() => window.pendingWriteDone)).toBe(false);
  await follower.evaluate(() => window.heldTransaction!.commit());

  const rows = await leader.evaluate(async (name) => {
    await window.pendingWrite;
    return window.harness.db(name).query<{ tab: string; seq: number }>('SELECT tab, seq FROM notes ORDER BY id');
  }, name);
  expect(rows).toEqual([
    { tab: 'follower', seq: 1 },
    { tab: 'follower', seq: 2 },
    { tab: 'leader', seq: 1 },
  ]);
});

test('closing a follower tab mid-transaction rolls it back without waiting for its lease', async ({ context }) => {
  const leader = await openTab(context);
  const follower = await openTab(context);
  const name = `follower-tx-closed-${Date.now()}`;
  await openDb(leader, name);
  expect(await openDb(follower, name)).toBe('follower');

  // A 10-minute lease: only the tab's Web Lock, released when it closes, can end this in time.
  expect(await beginInFollower(follower, name, 600_000)).toEqual(['in transaction']);
  await startLeaderWrite(leader, name);
  expect(await leader.evaluate(() => window.pendingWriteDone)).toBe(false);
  await follower.close();

  const rows = await leader.evaluate(async (name) => {
    await window.pendingWrite;
    return window.harness.db(name).query<{ tab: string; body: string }>('SELECT tab, body FROM notes ORDER BY id');
  }, name);
  expect(rows).toEqual([{ tab: 'leader', body: 'outside' }]);
});

test('a follower closing its database mid-transaction rolls it back at once', async ({ context }) => {
  const leader = await openTab(context);
  const follower = await openTab(context);
  const name = `follower-tx-db-closed-${Date.now()}`;
  await openDb(leader, name);
  expect(await openDb(follower, name)).toBe('follower');

  expect(await beginInFollower(follower, name, 600_000)).toEqual(['in transaction']);
  await startLeaderWrite(leader, name);
  const state = await follower.evaluate(async (name) => {
    await window.harness.db(name).close();
    return window.heldTransaction!.state;
  }, name);
  expect(state).toBe('rolledBack');
  const rows = await leader.evaluate(async (name) => {
    await window.pendingWrite;
    return window.harness.db(name).query<{ tab: string }>('SELECT tab FROM notes ORDER BY id');
  }, name);
  expect(rows).toEqual([{ tab: 'leader' }]);
});

test("when the leader tab closes mid-transaction, the follower's next statement gets transaction_expired", async ({ context }) => {
  const leader = await openTab(context);
  const follower = await openTab(context);
  const name = `follower-tx-leader-closed-${Date.now()}`;
  await openDb(leader, name);
  expect(await openDb(follower, name)).toBe('follower');

  expect(await beginInFollower(follower, name)).toEqual(['in transaction']);
  await leader.close();
  const after = await follower.evaluate(async (name) => {
    const tx = window.heldTransaction!;
    let code: string | undefined;
    try {
      await tx.exec('INSERT INTO notes (tab, seq, body) VALUES (?, ?, ?)', ['follower', 2, 'after the hand-over']);
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    const db = window.harness.db(name);
    return { code, state: tx.state, role: db.role, rows: await db.query('SELECT tab FROM notes') };
  }, name);
  expect(after).toEqual({ code: 'transaction_expired', state: 'rolledBack', role: 'leader', rows: [] });
});
