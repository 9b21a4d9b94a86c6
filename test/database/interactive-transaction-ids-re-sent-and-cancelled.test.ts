/**
 * Interactive transaction ids across retries and give-ups, on the worker's database layer: a
 * begin or commit re-sent (a follower re-sends calls after a leader hand-over) has the first
 * one's effect once; a rollback that arrives while the begin still waits for the writer lock
 * (the caller gave up) means the transaction never begins; closing the database rolls back the
 * open one. Real sqlite-wasm in Node.
 */
import { describe, expect, it } from 'vitest';
import { OversqliteError } from '../../worker/database/errors.ts';
import { openMemory } from './open-memory.ts';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as OversqliteError).code;
  }
  return undefined;
}

describe('interactive transaction ids', () => {
  it("a re-sent begin or commit has the first one's effect, once", async () => {
    const db = await openMemory();
    await Promise.all([db.transactions.begin('tx-1', 10_000), db.transactions.begin('tx-1', 10_000)]);
    await db.transactions.begin('tx-1', 10_000);
    db.transactions.run('tx-1', "INSERT INTO projects (id, name) VALUES ('p', 'one')");
    db.transactions.commit('tx-1');
    db.transactions.commit('tx-1'); // its answer was lost: the ledger says it committed
    expect(codeOf(() => db.transactions.commit('never-begun'))).toBe('transaction_expired');
    await expect(db.transactions.begin('tx-1', 10_000)).rejects.toMatchObject({ code: 'transaction_expired' });
    expect(db.query('SELECT id FROM projects')).toEqual({ ok: true, value: { rows: [{ id: 'p' }], columns: ['id'] } });
    db.close();
  });

  it('a rollback while the begin waits means it never begins; close rolls back the open one', async () => {
    const db = await openMemory();
    await db.transactions.begin('first', 10_000);
    const second = db.transactions.begin('second', 10_000);
    db.transactions.rollback('second'); // its caller gave up while it waited
    db.transactions.run('first', "INSERT INTO projects (id, name) VALUES ('a', 'first')");
    db.transactions.commit('first');
    await expect(second).rejects.toMatchObject({
      code: 'transaction_expired',
      message: expect.stringMatching(/rolled back before it began/),
    });
    expect(db.transactions.isOpen).toBe(false);

    await db.transactions.begin('left-open', 10_000);
    db.transactions.run('left-open', "INSERT INTO projects (id, name) VALUES ('b', 'never committed')");
    const queued = db.write({ statements: [{ sql: "INSERT INTO projects (id, name) VALUES ('c', 'queued')" }] });
    db.close();
    expect(await queued).toMatchObject({ ok: true });
    expect(codeOf(() => db.transactions.run('left-open', 'SELECT 1'))).toBe('transaction_expired');
  });
});
