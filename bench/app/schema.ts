/**
 * The one table every benchmark uses: a TEXT sync key and about 200 bytes per row, so synced and
 * plain variants differ only in whether the sync engine's capture triggers are installed.
 */
import type { AppSchema } from '../../worker/database/types.ts';
import type { SyncedTable } from '../../worker/engine/types.ts';

/** App schema: `items(id TEXT PRIMARY KEY, n INTEGER, body TEXT)`. */
export const itemsSchema: AppSchema = {
  version: 1,
  migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL, body TEXT NOT NULL)'],
};

/** The synced-table configuration for `items`. */
export const itemsSyncTables: SyncedTable[] = [{ table: 'items', syncKey: 'id' }];

/** Remote PostgreSQL schema the bench server uses. */
export const remoteSchema = 'bench';

/** A body of about 170 characters so that a row is about 200 bytes with its key and number. */
export function itemBody(i: number): string {
  return `row ${i} `.padEnd(170, 'abcdefghijklmnopqrstuvwxyz0123456789');
}

/** A key unique across runs and devices. */
export function itemKey(prefix: string, i: number): string {
  return `${prefix}-${String(i).padStart(7, '0')}`;
}
