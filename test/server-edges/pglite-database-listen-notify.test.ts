/**
 * LISTEN/NOTIFY on PGlite: notifications reach the subscriber only when the notifying transaction
 * commits, on exactly the channel listened to, until the subscriber stops listening.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../server/database/pglite.ts';
import type { SqlDatabase } from '../../server/database/types.ts';
import { PGLITE_TEMPLATE_DIR } from './fixtures/pglite-template.ts';

let db: SqlDatabase;
beforeAll(async () => {
  db = await createPgliteDatabase({ templateDir: PGLITE_TEMPLATE_DIR });
});
afterAll(async () => {
  await db.close();
});

/** Collects payloads and lets a test await the next one. */
function inbox() {
  const payloads: string[] = [];
  const waiters: Array<() => void> = [];
  return {
    payloads,
    push(payload: string) {
      payloads.push(payload);
      waiters.splice(0).forEach((wake) => wake());
    },
    next(count: number): Promise<void> {
      return new Promise<void>((resolve) => {
        const check = (): void => {
          if (payloads.length >= count) resolve();
          else waiters.push(check);
        };
        check();
      });
    },
  };
}

describe('PGlite LISTEN/NOTIFY', () => {
  it('delivers a committed notification and never a rolled-back one', async () => {
    const box = inbox();
    const stop = await db.listen('oversync_bundle_change_v1', (payload) => box.push(payload));
    await db.withConnection(async (session) => {
      await session.query('begin');
      await session.query(`select pg_notify('oversync_bundle_change_v1', $1)`, ['rolled back']);
      await session.query('rollback');
      await session.query('begin');
      await session.query(`select pg_notify('oversync_bundle_change_v1', $1)`, ['{"user_pk":1,"bundle_seq":"1"}']);
      await session.query('commit');
    });
    await box.next(1);
    expect(box.payloads).toEqual(['{"user_pk":1,"bundle_seq":"1"}']);
    await stop();
  });

  it('keeps channel names exact (case-sensitive) and separate', async () => {
    const upper = inbox();
    const other = inbox();
    const stopUpper = await db.listen('Watch_MixedCase', (payload) => upper.push(payload));
    const stopOther = await db.listen('another_channel', (payload) => other.push(payload));
    await db.query(`select pg_notify('Watch_MixedCase', 'for upper'), pg_notify('another_channel', 'for other')`);
    await Promise.all([upper.next(1), other.next(1)]);
    expect(upper.payloads).toEqual(['for upper']);
    expect(other.payloads).toEqual(['for other']);
    await stopUpper();
    await stopOther();
  });

  it('stops delivering after the returned function is called', async () => {
    const stopped = inbox();
    const still = inbox();
    const stop = await db.listen('stop_me', (payload) => stopped.push(payload));
    const keep = await db.listen('stop_me', (payload) => still.push(payload));
    await stop();
    await db.query(`select pg_notify('stop_me', 'after stop')`);
    await still.next(1);
    expect(stopped.payloads).toEqual([]);
    await keep();
  });

  it('lets a subscriber query the database from its callback', async () => {
    const looked = inbox();
    const stop = await db.listen('lookup', (payload) => {
      void db.query<{ echoed: string }>('select $1::text echoed', [payload]).then(({ rows }) => looked.push(rows[0]!.echoed));
    });
    await db.withConnection(async (session) => {
      await session.query(`select pg_notify('lookup', 'from a transaction')`);
    });
    await looked.next(1);
    expect(looked.payloads).toEqual(['from a transaction']);
    await stop();
  });

  it('rejects a channel name PostgreSQL cannot listen to with invalid_channel', async () => {
    await expect(db.listen('x'.repeat(64), () => {})).rejects.toMatchObject({ code: 'invalid_channel' });
    await expect(db.listen('has"quote', () => {})).rejects.toMatchObject({ code: 'invalid_channel' });
  });
});
