/**
 * Where a PGlite database lives and when it closes: a data directory survives a restart, a host's
 * own PGlite instance is wrapped and left open, and a closed database refuses work with a typed error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../server/database/pglite.ts';
import { PGLITE_TEMPLATE_DIR } from './fixtures/pglite-template.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('PGlite database lifecycle', () => {
  it('keeps data in a data directory across close and reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oversqlite-pglite-'));
    dirs.push(dir);
    const first = await createPgliteDatabase({ dataDir: dir, templateDir: PGLITE_TEMPLATE_DIR });
    expect(first.kind).toBe('pglite');
    await first.query('create table survivors (name text)');
    await first.query('insert into survivors values ($1)', ['still here']);
    await first.close();

    const second = await createPgliteDatabase({ dataDir: dir });
    const { rows } = await second.query<{ name: string }>('select name from survivors');
    expect(rows).toEqual([{ name: 'still here' }]);
    await second.close();
  }, 120_000); // two PGlite starts: CPU-bound, slow on a loaded machine

  it('wraps a host PGlite instance, gives pg types on it, and leaves it open on close', async () => {
    const pglite = await PGlite.create();
    const db = await createPgliteDatabase(pglite);
    expect((await db.query<{ big: string }>('select 5::int8 big')).rows).toEqual([{ big: '5' }]);
    await db.close();
    expect(pglite.closed).toBe(false);
    expect((await pglite.query<{ one: number }>('select 1 one')).rows).toEqual([{ one: 1 }]);
    await pglite.close();
  }, 90_000);

  it('finishes queued work on close, then refuses new work with database_closed', async () => {
    const db = await createPgliteDatabase({ templateDir: PGLITE_TEMPLATE_DIR });
    const queued = db.query<{ v: number }>('select 42 v');
    await db.close();
    expect((await queued).rows).toEqual([{ v: 42 }]);
    await expect(db.query('select 1')).rejects.toMatchObject({ code: 'database_closed' });
    await expect(db.withConnection(async () => 1)).rejects.toMatchObject({ code: 'database_closed' });
    await db.close(); // idempotent
  }, 90_000);
});
