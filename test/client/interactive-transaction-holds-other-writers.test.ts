/**
 * One writer: while an interactive transaction is open, writes from other callers queue in the
 * group commit and land right after it (after its rows), and a second transaction begins only
 * when the first ended. Real SQLite under the real facade.
 */
import { describe, expect, it } from 'vitest';
import { openDatabaseOverService } from './database-over-service.ts';

const schema = { version: 1, migrations: ['CREATE TABLE log (seq INTEGER PRIMARY KEY, who TEXT NOT NULL)'] };

describe('an open interactive transaction', () => {
  it('makes other writes wait, and they land after its rows', async () => {
    const { db } = await openDatabaseOverService('other-writes', schema);
    let outsideDone = false;
    let outside: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      await tx.exec("INSERT INTO log (who) VALUES ('tx 1')");
      outside = db.exec("INSERT INTO log (who) VALUES ('outside')").then(() => {
        outsideDone = true;
      });
      // Several round trips to the worker: the outside write would have committed by now if it could.
      for (let i = 0; i < 5; i++) expect(await tx.query("SELECT count(*) AS n FROM log WHERE who = 'outside'")).toEqual([{ n: 0 }]);
      await tx.exec("INSERT INTO log (who) VALUES ('tx 2')");
      expect(outsideDone).toBe(false);
    });
    await outside;
    expect(await db.query('SELECT seq, who FROM log ORDER BY seq')).toEqual([
      { seq: 1, who: 'tx 1' },
      { seq: 2, who: 'tx 2' },
      { seq: 3, who: 'outside' },
    ]);
    await db.close();
  });

  it('makes a second transaction wait until the first one ended', async () => {
    const { db } = await openDatabaseOverService('two-transactions', schema);
    const first = await db.beginTransaction();
    await first.exec("INSERT INTO log (who) VALUES ('first')");
    let secondBegun = false;
    const second = db.transaction(async (tx) => {
      secondBegun = true;
      return tx.query<{ who: string }>('SELECT who FROM log ORDER BY seq');
    });
    for (let i = 0; i < 5; i++) await first.query('SELECT 1');
    expect(secondBegun).toBe(false);
    await first.commit();
    expect(await second).toEqual([{ who: 'first' }]);
    await db.close();
  });
});
