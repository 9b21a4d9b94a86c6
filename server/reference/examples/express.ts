import express from 'express';
import type { Express } from 'express';
import { createSyncServer } from '../../index.ts';
import type { SyncServer } from '../../index.ts';
import { createJwtAuth } from '../../auth/index.ts';
import { expressMiddleware } from '../../adapters/index.ts';

/** An express app with its own routes, serving sync under `/api` (so clients use `${origin}/api` as base URL). */
export async function createExpressApp(databaseUrl: string, jwtSecret: string): Promise<{ app: Express; sync: SyncServer }> {
  const sync = await createSyncServer({
    database: { connectionString: databaseUrl },
    tables: [
      { schema: 'business', table: 'projects', syncKey: 'id' },
      { schema: 'business', table: 'tasks', syncKey: 'id' },
      { schema: 'business', table: 'comments', syncKey: 'id' },
    ],
    basePath: '/api',
  });
  const auth = createJwtAuth({ secret: jwtSecret }, { clockToleranceSec: 30 });
  const app = express();
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  app.use('/api', expressMiddleware(sync.handle, auth.authenticate));
  return { app, sync };
}
