/**
 * `db.sync.syncThenDetach()` from a follower tab: the change written in that tab reaches the
 * server before the sign-out, every tab is signed out, the remembered user is forgotten, and
 * another device of the same user finds the change.
 */
import { expect, test } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { deviceWithTwoTabs, expectSignedOutEverywhere, itemIdsOnAnotherDevice } from './sign-out-scene.ts';

test('syncThenDetach from a follower sends the pending change, then signs out every tab', async ({ browser }) => {
  const user = `sign-out-${Date.now()}`;
  const token = signHarnessToken(user);
  const { device, tabs } = await deviceWithTwoTabs(browser, token);
  await tabs[1]!.evaluate(async (user) => {
    const db = window.harness.db('sync');
    await db.sync.attach(user);
    await db.exec("INSERT INTO items (id, body) VALUES ('last-words', 'written just before signing out')");
  }, user);

  const result = await tabs[1]!.evaluate(async () => window.harness.db('sync').sync.syncThenDetach());

  expect(result).toMatchObject({ detach: { outcome: 'detached' }, syncRounds: 1, remainingPendingCount: 0 });
  expect(result.lastSync.push.outcome).toBe('committed');
  await expectSignedOutEverywhere(tabs);
  expect(await tabs[0]!.evaluate(async () => window.harness.db('sync').query('SELECT id FROM items'))).toEqual([]);
  expect(await itemIdsOnAnotherDevice(browser, token, user)).toEqual(['last-words']);
  await device.close();
});
