/**
 * PGlite has one connection, so units of work run one after another: a statement from elsewhere
 * never lands inside someone's transaction, and a nested call from inside a callback is refused
 * instead of deadlocking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../server/database/pglite.ts';
import type { SqlDatabase } from '../../server/database/types.ts';
import { PGLITE_TEMPLATE_DIR } from './fixtures/pglite-template.ts';

let db: SqlDatabase;
beforeAll(async () => {
  db = await createPgliteDatabase({ templateDir: PGLITE_TEMPLATE_DIR });
  await db.query('create table counter (id int primary key, n int not null)');
  await db.query('insert into counter values (1, 0)');
});
afterAll(async () => {
  await db.close();
});

describe('PGlite serialization', () => {
  it('runs concurrent withConnection callbacks one at a time, in call order', async () => {
    const events: string[] = [];
    const unit = (name: string) =>
      db.withConnection(async (session) => {
        events.push(`${name}:start`);
        await session.query('begin');
        // A read-modify-write that would lose updates if two callbacks interleaved.
        const { rows } = await session.query<{ n: number }>('select n from counter where id = 1');
        await new Promise<void>((resolve) => setImmediate(resolve));
        await session.query('update counter set n = $1 where id = 1', [rows[0]!.n + 1]);
        await session.query('commit');
        events.push(`${name}:end`);
      });
    await Promise.all([unit('a'), unit('b'), unit('c')]);
    expect(events).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    const { rows } = await db.query<{ n: number }>('select n from counter where id = 1');
    expect(rows[0]!.n).toBe(3);
  });

  it('makes a plain query wait until the transaction holding the connection has ended', async () => {
    let releaseHolder!: () => void;
    const holderMayFinish = new Promise<void>((resolve) => {
      releaseHolder = resolve;
    });
    let holderStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      holderStarted = resolve;
    });
    const holder = db.withConnection(async (session) => {
      await session.query('begin');
      await session.query('update counter set n = 100 where id = 1');
      holderStarted();
      await holderMayFinish;
      await session.query('rollback');
    });
    await started;
    const outside = db.query<{ n: number }>('select n from counter where id = 1');
    releaseHolder();
    await holder;
    // Had the read run inside the open transaction it would have seen the uncommitted 100.
    expect((await outside).rows[0]!.n).toBe(3);
  });

  it('refuses db.query and db.withConnection from inside a withConnection callback with nested_connection', async () => {
    await expect(db.withConnection(() => db.query('select 1'))).rejects.toMatchObject({ code: 'nested_connection' });
    await expect(db.withConnection(() => db.withConnection(async () => 1))).rejects.toMatchObject({ code: 'nested_connection' });
    // The connection is usable afterwards.
    expect((await db.query<{ one: number }>('select 1 one')).rows).toEqual([{ one: 1 }]);
  });

  it('lets work started inside a callback use the database once the callback has ended', async () => {
    let later!: Promise<unknown>;
    await db.withConnection(async () => {
      later = new Promise((resolve) => setImmediate(resolve)).then(() => db.query<{ ok: boolean }>('select true ok'));
    });
    expect(((await later) as { rows: unknown[] }).rows).toEqual([{ ok: true }]);
  });

  it('refuses a session used after its withConnection callback ended with session_released', async () => {
    let kept!: Parameters<Parameters<SqlDatabase['withConnection']>[0]>[0];
    await db.withConnection(async (session) => {
      kept = session;
    });
    await expect(kept.query('select 1')).rejects.toMatchObject({ code: 'session_released' });
  });
});
