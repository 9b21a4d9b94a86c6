/**
 * `db.transaction(async (tx) => ...)`: reads inside see the transaction's writes, nobody else
 * does before the commit, the commit is announced once, a throw rolls everything back (no change
 * event), a failing statement undoes only itself, savepoints nest, and a finished transaction
 * refuses further statements with `transaction_expired`. Real SQLite under the real facade.
 */
import { describe, expect, it } from 'vitest';
import { OversqliteError } from '../../worker/database/errors.ts';
import type { CommitNotice } from '../../worker/database/table-access.ts';
import { openDatabaseOverService } from './database-over-service.ts';

const schema = { version: 1, migrations: ['CREATE TABLE accounts (id TEXT PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0))'] };

async function failureOf(promise: Promise<unknown>): Promise<OversqliteError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OversqliteError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('interactive transactions', () => {
  it('read their own writes, stay invisible until commit, and are announced once', async () => {
    const { db } = await openDatabaseOverService('commit', schema);
    await db.exec("INSERT INTO accounts VALUES ('a', 100), ('b', 0)");
    const changes: CommitNotice[] = [];
    db.on('change', (n) => changes.push(n));
    const liveRows: unknown[] = [];
    const live = db.live('SELECT id, balance FROM accounts ORDER BY id', undefined, (rows) => liveRows.push(rows));
    await expect.poll(() => liveRows.length).toBe(1);

    let outsideRead: Promise<unknown> | undefined;
    const moved = await db.transaction(async (tx) => {
      const [from] = await tx.query<{ balance: number }>("SELECT balance FROM accounts WHERE id = 'a'");
      await tx.exec("UPDATE accounts SET balance = balance - ? WHERE id = 'a'", [from!.balance / 2]);
      await tx.exec("UPDATE accounts SET balance = balance + ? WHERE id = 'b'", [from!.balance / 2]);
      // Another caller's read waits for the commit instead of seeing uncommitted rows.
      outsideRead = db.query('SELECT id, balance FROM accounts ORDER BY id');
      expect(await tx.query('SELECT id, balance FROM accounts ORDER BY id')).toEqual([
        { id: 'a', balance: 50 },
        { id: 'b', balance: 50 },
      ]);
      return from!.balance / 2;
    });
    expect(moved).toBe(50);
    expect(await outsideRead).toEqual([
      { id: 'a', balance: 50 },
      { id: 'b', balance: 50 },
    ]);
    expect(changes).toEqual([{ tables: ['accounts'], seq: expect.any(Number) }]);
    await expect.poll(() => liveRows.length).toBe(2);
    expect(liveRows[1]).toEqual([
      { id: 'a', balance: 50 },
      { id: 'b', balance: 50 },
    ]);
    live.close();
    await db.close();
  });

  it('roll back everything when the callback throws, with no change event', async () => {
    const { db } = await openDatabaseOverService('throw', schema);
    await db.exec("INSERT INTO accounts VALUES ('a', 10)");
    const changes: CommitNotice[] = [];
    db.on('change', (n) => changes.push(n));
    const boom = new Error('app failure');
    await expect(
      db.transaction(async (tx) => {
        await tx.exec("INSERT INTO accounts VALUES ('c', 5)");
        await tx.exec("UPDATE accounts SET balance = 0 WHERE id = 'a'");
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await db.query('SELECT id, balance FROM accounts')).toEqual([{ id: 'a', balance: 10 }]);
    expect(changes).toEqual([]);
    await db.close();
  });

  it('keep going after a failing statement, which undoes only itself', async () => {
    const { db } = await openDatabaseOverService('statement-error', schema);
    await db.transaction(async (tx) => {
      await tx.exec("INSERT INTO accounts VALUES ('a', 1)");
      const error = await failureOf(tx.exec("INSERT INTO accounts VALUES ('b', -1)"));
      expect(error.code).toBe('constraint_violation');
      await tx.exec("INSERT INTO accounts VALUES ('c', 3)");
    });
    expect(await db.query('SELECT id FROM accounts ORDER BY id')).toEqual([{ id: 'a' }, { id: 'c' }]);
    await db.close();
  });

  it('nest with savepoints, and refuse BEGIN, COMMIT and ROLLBACK as statements', async () => {
    const { db } = await openDatabaseOverService('savepoints', schema);
    await db.transaction(async (tx) => {
      await tx.exec("INSERT INTO accounts VALUES ('outer', 1)");
      await tx.exec('SAVEPOINT sp1');
      await tx.exec("INSERT INTO accounts VALUES ('inner', 2)");
      expect(await tx.query('SELECT count(*) AS n FROM accounts')).toEqual([{ n: 2 }]);
      await tx.exec('ROLLBACK TO SAVEPOINT sp1');
      await tx.exec('RELEASE SAVEPOINT sp1');
      await tx.exec('SAVEPOINT "kept one"');
      await tx.exec("INSERT INTO accounts VALUES ('inner kept', 3)");
      await tx.exec('RELEASE "kept one"');
      for (const sql of ['BEGIN', 'COMMIT', 'ROLLBACK', 'END']) {
        expect((await failureOf(tx.exec(sql))).code).toBe('invalid_argument');
      }
    });
    expect(await db.query('SELECT id FROM accounts ORDER BY id')).toEqual([{ id: 'inner kept' }, { id: 'outer' }]);
    await db.close();
  });

  it('refuse statements once committed or rolled back, with transaction_expired', async () => {
    const { db } = await openDatabaseOverService('finished', schema);
    const committed = await db.beginTransaction();
    await committed.exec("INSERT INTO accounts VALUES ('a', 1)");
    await committed.commit();
    expect(committed.state).toBe('committed');
    expect((await failureOf(committed.exec('SELECT 1'))).code).toBe('transaction_expired');
    const rolledBack = await db.beginTransaction();
    await rolledBack.exec("INSERT INTO accounts VALUES ('b', 1)");
    await rolledBack.rollback();
    await rolledBack.rollback(); // nothing left to do
    expect((await failureOf(rolledBack.commit())).code).toBe('transaction_expired');
    expect(await db.query('SELECT id FROM accounts')).toEqual([{ id: 'a' }]);
    expect((await failureOf(db.transaction([]))).code).toBe('invalid_argument');
    await db.close();
  });
});
