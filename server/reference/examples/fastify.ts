import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { createSyncServer } from '../../index.ts';
import type { SyncServer } from '../../index.ts';
import { createJwtAuth } from '../../auth/index.ts';
import { toNodeHandler } from '../../adapters/index.ts';

/** A Fastify app with its own routes and the sync protocol (with watch) under `/sync/*`. */
export async function createFastifyApp(databaseUrl: string, jwtSecret: string): Promise<{ app: FastifyInstance; sync: SyncServer }> {
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
  const serve = toNodeHandler(sync.handle, auth.authenticate);
  const app = Fastify();
  app.get('/hello', async () => ({ hello: 'world' }));
  await app.register(async (syncRoutes) => {
    // The handler reads the request body itself: Fastify must leave it unparsed.
    syncRoutes.removeAllContentTypeParsers();
    syncRoutes.addContentTypeParser('*', (_request, _payload, done) => done(null));
    // hijack(): the node handler writes the (possibly streaming) response, not Fastify.
    syncRoutes.all('/sync/*', (request, reply) => {
      reply.hijack();
      serve(request.raw, reply.raw);
    });
  });
  return { app, sync };
}
