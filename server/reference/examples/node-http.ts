import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createSyncServer } from '../../index.ts';
import type { SyncServer } from '../../index.ts';
import { createJwtAuth } from '../../auth/index.ts';
import { toNodeHandler } from '../../adapters/index.ts';

/** A sync server for the `business` tables on PostgreSQL, served by plain node:http. */
export async function startNodeHttpSyncServer(
  databaseUrl: string,
  jwtSecret: string,
  port: number,
): Promise<{ http: Server; sync: SyncServer }> {
  const sync = await createSyncServer({
    database: { connectionString: databaseUrl },
    tables: [
      { schema: 'business', table: 'projects', syncKey: 'id' },
      { schema: 'business', table: 'tasks', syncKey: 'id' },
      { schema: 'business', table: 'comments', syncKey: 'id' },
    ],
    watch: { enabled: true },
  });
  const auth = createJwtAuth({ secret: jwtSecret });
  const http = createServer(toNodeHandler(sync.handle, auth.authenticate));
  await new Promise<void>((resolve) => http.listen(port, resolve));
  return { http, sync };
}
