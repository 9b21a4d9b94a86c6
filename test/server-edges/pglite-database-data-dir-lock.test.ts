/**
 * A PGlite data directory is open by one database at a time: PGlite would let a second instance
 * (another server process, or the same one twice) write the same files and corrupt them. The second
 * opener gets data_dir_in_use; closing releases the directory; a lock left by a dead process is
 * taken over.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../server/database/pglite.ts';
import { PGLITE_TEMPLATE_DIR } from './fixtures/pglite-template.ts';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'oversqlite-pglite-lock-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('PGlite data directory lock', () => {
  it('refuses a second open of the same directory until the first closes', async () => {
    const first = await createPgliteDatabase({ dataDir, templateDir: PGLITE_TEMPLATE_DIR });
    expect(await readFile(join(dataDir, 'oversqlite.lock'), 'utf8')).toBe(String(process.pid));
    await expect(createPgliteDatabase({ dataDir })).rejects.toMatchObject({ code: 'data_dir_in_use' });
    await first.close();
    const second = await createPgliteDatabase({ dataDir });
    expect((await second.query<{ one: number }>('select 1 one')).rows).toEqual([{ one: 1 }]);
    await second.close();
  }, 120_000);

  it('takes over a lock left behind by a process that no longer exists', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((resolve) => child.once('exit', resolve));
    await writeFile(join(dataDir, 'oversqlite.lock'), String(deadPid));
    const db = await createPgliteDatabase({ dataDir });
    expect(await readFile(join(dataDir, 'oversqlite.lock'), 'utf8')).toBe(String(process.pid));
    await db.close();
  }, 120_000);
});
