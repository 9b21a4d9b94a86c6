/**
 * `db.sync.detach({ force: true })` from a follower tab: a plain detach refuses while a change is
 * not on the server; forced, every tab is signed out, the change is discarded (and counted), the
 * remembered user is forgotten, and another device of the same user never sees the change. A
 * `force` that is not a boolean rejects with `invalid_argument`.
 */
import { expect, test } from '@playwright/test';
import { signHarnessToken } from '../test/harness/sync-server.ts';
import { deviceWithTwoTabs, expectSignedOutEverywhere, itemIdsOnAnotherDevice } from './sign-out-scene.ts';

test('detach({ force: true }) signs out every tab and discards what was not pushed', async ({ browser }) => {
  const user = `force-sign-out-${Date.now()}`;
  const token = signHarnessToken(user);
  const { device, tabs } = await deviceWithTwoTabs(browser, token);
  await tabs[1]!.evaluate(async (user) => {
    const db = window.harness.db('sync');
    await db.sync.attach(user);
    await db.exec("INSERT INTO items (id, body) VALUES ('synced', 'on the server')");
    await db.sync.sync();
    await db.exec("INSERT INTO items (id, body) VALUES ('draft', 'never pushed')");
  }, user);

  const refused = await tabs[1]!.evaluate(async () => window.harness.db('sync').sync.detach());
  expect(refused).toEqual({ outcome: 'blocked_unsynced_data', pendingCount: 1 });
  const badForce = await tabs[1]!.evaluate(async () =>
    window.harness
      .db('sync')
      .sync.detach({ force: 'yes' as unknown as boolean })
      .then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      ),
  );
  expect(badForce).toBe('invalid_argument');
  expect(await tabs[0]!.evaluate(() => window.harness.db('sync').sync.status.get()?.pendingCount)).toBe(1);

  const forced = await tabs[1]!.evaluate(async () => window.harness.db('sync').sync.detach({ force: true }));
  expect(forced).toEqual({ outcome: 'detached', discardedChanges: 1 });
  await expectSignedOutEverywhere(tabs);
  expect(await tabs[0]!.evaluate(async () => window.harness.db('sync').query('SELECT id FROM items'))).toEqual([]);
  expect(await itemIdsOnAnotherDevice(browser, token, user)).toEqual(['synced']);
  await device.close();
});
