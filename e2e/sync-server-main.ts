/**
 * Runs the real sync server (test harness: fresh PostgreSQL database, HS256 tokens) for the e2e
 * specs on a fixed port chosen by scripts/e2e.mjs, and writes its database connection string to
 * the info file so specs can compare browser data with PostgreSQL. Playwright starts it as a
 * webServer and stops it with SIGTERM, which drops the database.
 */
import { createServer } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { toNodeHandler } from '../server/adapters/index.ts';
import { createJwtAuth } from '../server/auth/index.ts';
import { HARNESS_JWT_SECRET, startSyncServer } from '../test/harness/sync-server.ts';
import { syncInfoFile, syncPort } from './browser.ts';
import { SYNC_SERVER_SQL, SYNC_SERVER_TABLES } from './sync-schema.ts';

const harness = await startSyncServer({ schemaSql: SYNC_SERVER_SQL, tables: SYNC_SERVER_TABLES, purpose: 'e2e' });
const auth = createJwtAuth({ secret: HARNESS_JWT_SECRET });
const http = createServer(toNodeHandler((request, requestAuth) => harness.server.handle(request, requestAuth), auth.authenticate));
await new Promise<void>((resolve) => http.listen(syncPort, '127.0.0.1', resolve));
writeFileSync(syncInfoFile, JSON.stringify({ connectionString: harness.testDatabase.connectionString }));
console.log(`sync server on http://127.0.0.1:${syncPort} (database ${harness.testDatabase.name})`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  await harness.close();
  rmSync(syncInfoFile, { force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
