/** The app schema of the checked-in client metadata dumps (scripts/dump-client-metadata.ts). */
import type { SyncedTable } from '../../../worker/engine/index.ts';

export const CLIENT_LAYOUT_SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
export const CLIENT_LAYOUT_TABLES: SyncedTable[] = [{ table: 'users', syncKey: 'id' }];
