import { createSyncServer } from '../../index.ts';
import type { SyncServer } from '../../index.ts';
import { createPgliteDatabase } from '../../database/pglite.ts';

/** A sync server on embedded PGlite: no PostgreSQL needed; data lives in `dataDir` (omit it for memory only). */
export async function startEmbeddedSyncServer(schemaSql: string, dataDir?: string): Promise<SyncServer> {
  const database = await createPgliteDatabase(dataDir === undefined ? {} : { dataDir });
  await database.query(schemaSql); // your tables must exist before the server registers them
  return createSyncServer({
    database,
    tables: [{ schema: 'business', table: 'projects', syncKey: 'id' }],
  });
}
