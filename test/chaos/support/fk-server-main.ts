/**
 * The chaos runs' server as a real child process (see `fk-server-process.ts`): the sync server on
 * the FK schema's tables over `DATABASE_URL`, listening on `PORT` (0: any free port). It is killed
 * with SIGKILL mid-commit and started again on the same port; PostgreSQL is its only state.
 * Prints `chaos server on <url>` once listening.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJwtAuth, createPostgresDatabase, createSyncServer, toNodeHandler } from '../../../server/index.ts';
import { HARNESS_JWT_SECRET } from '../../harness/sync-server.ts';
import { FK_SERVER_TABLES } from '../../engine-integration/support/fk-schema.ts';

const database = createPostgresDatabase({ connectionString: process.env.DATABASE_URL!, maxConnections: 6 });
const sync = await createSyncServer({
  database,
  tables: FK_SERVER_TABLES,
  watch: { enabled: false },
  appName: 'oversqlite-chaos',
  wireDialect: 'jcs-numeric-strings',
});
const auth = createJwtAuth({ secret: HARNESS_JWT_SECRET });
const http = createServer(
  toNodeHandler(
    (req, a) => sync.handle(req, a),
    (req) => auth.authenticate(req),
  ),
);
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`chaos server on http://127.0.0.1:${(http.address() as AddressInfo).port}`);
});
