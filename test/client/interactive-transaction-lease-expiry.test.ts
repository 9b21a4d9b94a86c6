/**
 * A transaction whose caller goes quiet for its lease is rolled back by the worker: a write
 * waiting behind it then lands, nothing of the transaction stays, and the late caller's next
 * statement and its commit fail with `transaction_expired`. Real SQLite under the real facade.
 */
import { describe, expect, it } from 'vitest';
import { OversqliteError } from '../../worker/database/errors.ts';
import { openDatabaseOverService } from './database-over-service.ts';

const schema = { version: 1, migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY)'] };

async function failureOf(promise: Promise<unknown>): Promise<OversqliteError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OversqliteError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('transaction lease', () => {
  it('rolls back a transaction whose caller went quiet; later calls on it get transaction_expired', async () => {
    const { db } = await openDatabaseOverService('lease', schema, { transactionLeaseMs: 200 });
    const tx = await db.beginTransaction();
    await tx.exec("INSERT INTO items VALUES ('from the lost caller')");
    // This write waits for the transaction; it lands once the lease ran out and rolled it back.
    await db.exec("INSERT INTO items VALUES ('waited')");
    expect(await db.query('SELECT id FROM items')).toEqual([{ id: 'waited' }]);
    const late = await failureOf(tx.exec("INSERT INTO items VALUES ('late')"));
    expect(late.code).toBe('transaction_expired');
    expect(late.message).toMatch(/200 ms without a statement \(its lease ran out\)/);
    expect(tx.state).toBe('rolledBack');
    expect((await failureOf(tx.commit())).code).toBe('transaction_expired');
    expect(await db.query('SELECT id FROM items')).toEqual([{ id: 'waited' }]);
    await db.close();
  });

  it('is renewed by every statement, and can be set per transaction', async () => {
    const { db } = await openDatabaseOverService('lease-renewed', schema, { transactionLeaseMs: 60_000 });
    // Four statements 400 ms apart outlive a 1 s lease twice over: each one renews it. (The pauses
    // are the slow caller under test, not a wait for an event.)
    await db.transaction(
      async (tx) => {
        for (let i = 0; i < 4; i++) {
          await tx.exec('INSERT INTO items VALUES (?)', [`row ${i}`]);
          await new Promise((resolve) => setTimeout(resolve, 400));
        }
      },
      { leaseMs: 1000 },
    );
    expect(await db.query<{ n: number }>('SELECT count(*) AS n FROM items')).toEqual([{ n: 4 }]);
    // A short lease set for one transaction (the database's default is a minute).
    const quick = await db.beginTransaction({ leaseMs: 50 });
    await quick.exec("INSERT INTO items VALUES ('quick')");
    await db.exec("INSERT INTO items VALUES ('after quick')");
    expect((await failureOf(quick.commit())).code).toBe('transaction_expired');
    expect((await failureOf(db.beginTransaction({ leaseMs: 0 }))).code).toBe('invalid_argument');
    await db.close();
  });
});
