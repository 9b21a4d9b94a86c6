/**
 * The PostgreSQL features the sync runtime relies on work on PGlite through this seam: session
 * advisory locks (per-user serialization) and statement-level triggers with transition tables
 * (set-based capture of business-table writes).
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

describe('PGlite advisory locks', () => {
  it('takes and releases a session advisory lock keyed by hashtextextended', async () => {
    const held = await db.withConnection(async (session) => {
      await session.query('select pg_advisory_lock(hashtextextended($1, 0))', ['alice']);
      const { rows } = await session.query<{ n: string }>(`select count(*) n from pg_locks where locktype = 'advisory' and granted`);
      const { rows: unlocked } = await session.query<{ ok: boolean }>('select pg_advisory_unlock(hashtextextended($1, 0)) ok', ['alice']);
      return { count: rows[0]!.n, unlocked: unlocked[0]!.ok };
    });
    expect(held).toEqual({ count: '1', unlocked: true });
    const { rows } = await db.query<{ n: string }>(`select count(*) n from pg_locks where locktype = 'advisory'`);
    expect(rows[0]!.n).toBe('0');
  });

  it('serializes two lock holders without deadlock (one connection, one holder at a time)', async () => {
    const order: string[] = [];
    const holder = (name: string) =>
      db.withConnection(async (session) => {
        await session.query('select pg_advisory_lock(hashtextextended($1, 0))', ['bob']);
        order.push(`${name} locked`);
        await new Promise<void>((resolve) => setImmediate(resolve));
        order.push(`${name} unlocking`);
        await session.query('select pg_advisory_unlock(hashtextextended($1, 0))', ['bob']);
      });
    await Promise.all([holder('first'), holder('second')]);
    expect(order).toEqual(['first locked', 'first unlocking', 'second locked', 'second unlocking']);
  });

  it('supports transaction-scoped advisory locks', async () => {
    const got = await db.withConnection(async (session) => {
      await session.query('begin');
      const { rows } = await session.query<{ ok: boolean }>('select pg_try_advisory_xact_lock($1::bigint) ok', ['8031170568419978595']);
      await session.query('commit');
      return rows[0]!.ok;
    });
    expect(got).toBe(true);
  });
});

describe('PGlite statement triggers with transition tables', () => {
  it('sees every inserted, updated and deleted row of one statement in the transition tables', async () => {
    await db.query(`
      create schema business;
      create table business.notes (_sync_scope_id text not null, id uuid not null, body text, unique (_sync_scope_id, id));
      create table captured (op text, id uuid, body text, n int);
      create function capture_ins() returns trigger language plpgsql as $$
      begin
        insert into captured select 'I', id, body, (select count(*) from new_rows) from new_rows;
        return null;
      end $$;
      create function capture_upd() returns trigger language plpgsql as $$
      begin
        insert into captured select 'U', n.id, n.body || ' (was ' || o.body || ')', 0
          from new_rows n join old_rows o using (_sync_scope_id, id);
        return null;
      end $$;
      create function capture_del() returns trigger language plpgsql as $$
      begin
        insert into captured select 'D', id, null, 0 from old_rows;
        return null;
      end $$;
      create trigger notes_ins after insert on business.notes referencing new table as new_rows for each statement execute function capture_ins();
      create trigger notes_upd after update on business.notes referencing old table as old_rows new table as new_rows for each statement execute function capture_upd();
      create trigger notes_del after delete on business.notes referencing old table as old_rows for each statement execute function capture_del();
    `);
    const a = '00000000-0000-4000-8000-00000000000a';
    const b = '00000000-0000-4000-8000-00000000000b';
    await db.withConnection(async (session) => {
      await session.query('begin');
      await session.query(`insert into business.notes select 'u1', (r->>'id')::uuid, r->>'body' from jsonb_array_elements($1::jsonb) r`, [
        [
          { id: a, body: 'first' },
          { id: b, body: 'second' },
        ],
      ]);
      await session.query(`update business.notes set body = 'edited' where id = $1`, [a]);
      await session.query('delete from business.notes where id = $1', [b]);
      await session.query('commit');
    });
    const { rows } = await db.query<{ op: string; id: string; body: string | null; n: number }>(
      'select op, id, body, n from captured order by op, id',
    );
    expect(rows).toEqual([
      { op: 'D', id: b, body: null, n: 0 },
      { op: 'I', id: a, body: 'first', n: 2 },
      { op: 'I', id: b, body: 'second', n: 2 },
      { op: 'U', id: a, body: 'edited (was first)', n: 0 },
    ]);
  });
});
