import { Hono } from 'hono';
import { createSyncServer } from '../../index.ts';
import type { SyncServer } from '../../index.ts';
import { createJwtAuth } from '../../auth/index.ts';
import { authenticateAndHandle } from '../../adapters/index.ts';

/** A Hono app with its own routes and the sync protocol (with watch) under `/sync/*`. Serve `app.fetch` with any runtime. */
export async function createHonoApp(databaseUrl: string, jwtSecret: string): Promise<{ app: Hono; sync: SyncServer }> {
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
  const app = new Hono();
  app.get('/hello', (c) => c.json({ hello: 'world' }));
  // Hono hands over the fetch Request itself: the handler needs no adapter, only the auth step.
  app.all('/sync/*', (c) => authenticateAndHandle(c.req.raw, sync.handle, auth.authenticate, {}));
  return { app, sync };
}
