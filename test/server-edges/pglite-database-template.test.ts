/**
 * PGlite databases can start from a cached empty cluster instead of running initdb each time: the
 * first in-memory creation writes the template, later ones load it, each database is independent,
 * a broken template is rebuilt instead of failing, and a new data directory is seeded from it.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../server/database/pglite.ts';

let templateDir: string;
beforeAll(async () => {
  templateDir = await mkdtemp(join(tmpdir(), 'oversqlite-pglite-template-'));
});
afterAll(async () => {
  await rm(templateDir, { recursive: true, force: true });
});

async function templateFiles(): Promise<string[]> {
  return (await readdir(templateDir)).filter((name) => name.endsWith('-template.tar'));
}

describe('PGlite template cache', () => {
  it('writes the template on first use and starts later databases from it, each independent', async () => {
    const first = await createPgliteDatabase({ templateDir });
    expect(await templateFiles()).toHaveLength(1);
    await first.query('create table only_in_first (id int)');

    const second = await createPgliteDatabase({ templateDir });
    const { rows } = await second.query<{ n: string }>(`select count(*) n from pg_tables where tablename = 'only_in_first'`);
    expect(rows).toEqual([{ n: '0' }]);
    await second.query('create table t (id int8 primary key, doc jsonb)');
    await second.query('insert into t values ($1, $2)', ['9007199254740993', { ok: true }]);
    expect((await second.query('select * from t')).rows).toEqual([{ id: '9007199254740993', doc: { ok: true } }]);
    await Promise.all([first.close(), second.close()]);
  }, 120_000);

  it('rebuilds a template that cannot be loaded', async () => {
    const [name] = await templateFiles();
    await writeFile(join(templateDir, name!), 'not a tarball');
    const db = await createPgliteDatabase({ templateDir });
    expect((await db.query<{ one: number }>('select 1 one')).rows).toEqual([{ one: 1 }]);
    await db.close();
    expect((await stat(join(templateDir, name!))).size).toBeGreaterThan(1_000_000);
    const again = await createPgliteDatabase({ templateDir });
    expect((await again.query<{ one: number }>('select 1 one')).rows).toEqual([{ one: 1 }]);
    await again.close();
  }, 120_000);

  it('seeds a new data directory from the template, which then persists like any other', async () => {
    const dataDir = join(templateDir, 'seeded-data');
    const first = await createPgliteDatabase({ dataDir, templateDir });
    await first.query('create table kept (v text)');
    await first.query('insert into kept values ($1)', ['persisted']);
    await first.close();
    const reopened = await createPgliteDatabase({ dataDir, templateDir });
    expect((await reopened.query('select v from kept')).rows).toEqual([{ v: 'persisted' }]);
    await reopened.close();
  }, 120_000);
});
