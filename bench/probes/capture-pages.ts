/**
 * Probe of the pages change capture writes (not part of `npm run bench`): the `write` group's
 * phases (10,000 rows inserted then updated in one write unit, then 1,000 single-row insert and
 * update units) through the group commit, plain table vs the real engine's capture triggers, on
 * sqlite-wasm's `memdb` VFS with the pragmas the worker uses on OPFS (exclusive locking, WAL,
 * synchronous FULL; no auto-checkpoint, so every page a commit writes is one WAL frame). Counts
 * the pages written (SQLITE_DBSTATUS_CACHE_WRITE): exact and independent of machine load, where
 * the browser's timings swing with it; each written page is a write (and its checksum) on OPFS.
 * Also prints how many single-row insert commits wrote how many pages (splits show as extra pages),
 * and which B-trees those pages belong to (each page's bytes compared before and after a commit
 * through `sqlite_dbpage`, named by `dbstat`).
 *
 *   node --import tsx bench/probes/capture-pages.ts
 */
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { Database } from '@sqlite.org/sqlite-wasm';
import { GroupCommit } from '../../worker/database/group-commit.ts';
import type { SqlStatement } from '../../worker/database/types.ts';
import { itemBody, itemKey, itemsSchema } from '../app/schema.ts';
import { openCaptureOnlyEngine } from '../lib/capture-variants.ts';

const BULK = 10_000;
const SINGLE = 1_000;
const sqlite3 = await sqlite3InitModule();
const { capi, wasm } = sqlite3;

/** Every page's bytes, by page number (committed state, read through the pager). */
function pageImages(db: Database): Map<number, Uint8Array> {
  const rows = db.exec({ sql: 'SELECT pgno, data FROM sqlite_dbpage', rowMode: 'array', returnValue: 'resultRows' }) as [
    number,
    Uint8Array,
  ][];
  return new Map(rows.map(([pgno, data]) => [pgno, data]));
}

/** Adds to `into`, per B-tree (`dbstat` name), the pages whose bytes differ between `before` and now. */
function changedByBtree(db: Database, before: Map<number, Uint8Array>, into: Map<string, number>): Map<number, Uint8Array> {
  const after = pageImages(db);
  const names = new Map(
    (db.exec({ sql: 'SELECT pageno, name FROM dbstat', rowMode: 'array', returnValue: 'resultRows' }) as [number, string][]).map(
      ([p, n]) => [p, n],
    ),
  );
  for (const [pgno, data] of after) {
    const old = before.get(pgno);
    if (old && old.length === data.length && old.every((b, i) => b === data[i])) continue;
    const name = pgno === 1 ? 'page 1 (header, sqlite_schema)' : (names.get(pgno) ?? 'free list');
    into.set(name, (into.get(name) ?? 0) + 1);
  }
  return after;
}

/** Pages written since the last call (the counter is reset). */
function pagesWritten(db: Database): number {
  return wasm.scopedAllocCall(() => {
    const current = wasm.scopedAlloc(8);
    capi.sqlite3_db_status(db, capi.SQLITE_DBSTATUS_CACHE_WRITE, current, current + 4, 1);
    return wasm.peek32(current) as number;
  });
}

async function phases(synced: boolean): Promise<Record<string, number>> {
  const db = new sqlite3.oo1.DB(`file:/capture-pages-${synced ? 's' : 'p'}.db?vfs=memdb`, 'c');
  for (const pragma of ['locking_mode = EXCLUSIVE', 'journal_mode = WAL', 'synchronous = FULL', 'wal_autocheckpoint = 0'])
    db.exec(`PRAGMA ${pragma}`);
  for (const m of itemsSchema.migrations) db.exec(m);
  const engine = synced ? await openCaptureOnlyEngine(sqlite3, db) : undefined;
  const units = new GroupCommit(
    sqlite3,
    db,
    () => {},
    (flush) => flush(),
  );
  const write = async (statements: SqlStatement[]) => {
    const outcome = await units.submit({ statements });
    if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  };
  try {
    pagesWritten(db);
    await write(
      Array.from({ length: BULK }, (_, i) => ({
        sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)',
        params: [itemKey('b', i), i, itemBody(i)],
      })),
    );
    const bulkInsert = pagesWritten(db);
    await write(
      Array.from({ length: BULK }, (_, i) => ({
        sql: 'UPDATE items SET n = n + 1, body = ? WHERE id = ?',
        params: [itemBody(i + 1), itemKey('b', i)],
      })),
    );
    const bulkUpdate = pagesWritten(db);
    let singleInsert = 0;
    // How many commits wrote how many pages: the B-tree splits show as the commits above the usual count.
    const byPages = new Map<number, number>();
    const byBtree = new Map<string, number>();
    let images = pageImages(db);
    pagesWritten(db);
    for (let i = 0; i < SINGLE; i++) {
      await write([{ sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)', params: [itemKey('s', i), i, itemBody(i)] }]);
      const pages = pagesWritten(db);
      singleInsert += pages / SINGLE;
      byPages.set(pages, (byPages.get(pages) ?? 0) + 1);
      images = changedByBtree(db, images, byBtree);
    }
    const histogram = [...byPages].sort(([a], [b]) => a - b).map(([pages, commits]) => `${commits} x ${pages}`);
    console.log(`${synced ? 'synced' : 'plain'} single-row insert commits by pages written: ${histogram.join(', ')}`);
    const btrees = [...byBtree].sort(([, a], [, b]) => b - a).map(([name, pages]) => `${name} ${(pages / SINGLE).toFixed(3)}`);
    console.log(`${synced ? 'synced' : 'plain'} pages changed per single-row insert commit, by B-tree: ${btrees.join(', ')}`);
    for (let i = 0; i < SINGLE; i++) await write([{ sql: 'UPDATE items SET n = n + 1 WHERE id = ?', params: [itemKey('s', i)] }]);
    const singleUpdate = pagesWritten(db) / SINGLE;
    return { bulkInsert, bulkUpdate, singleInsert, singleUpdate };
  } finally {
    await engine?.close();
    db.close();
  }
}

const plain = await phases(false);
const synced = await phases(true);
for (const [k, what] of [
  ['bulkInsert', `pages, ${BULK}-row insert unit`],
  ['bulkUpdate', `pages, ${BULK}-row update unit`],
  ['singleInsert', 'pages per single-row insert commit'],
  ['singleUpdate', 'pages per single-row update commit'],
] as const) {
  console.log(`${what}: plain ${plain[k]!.toFixed(2)}, synced ${synced[k]!.toFixed(2)} (+${(synced[k]! - plain[k]!).toFixed(2)})`);
}
