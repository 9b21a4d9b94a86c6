// The packed package serves sync in a plain `node` app (no tsx, no loaders): `oversqlite/server`
// and `oversqlite/protocol` import from dist/, createSyncServer runs on a fresh PostgreSQL behind
// node:http, and a request with a token from the package's own auth helper answers v1.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase } from '../harness/test-database.ts';
import type { TestDatabase } from '../harness/test-database.ts';
import { cleanEnv, packAndInstall } from './packed-package.ts';
import type { PackedProject } from './packed-package.ts';

// What a user writes: ESM JavaScript importing the package by name.
const APP = `
import { createServer } from 'node:http';
import { createSyncServer, createJwtAuth, signDevToken, toNodeHandler } from 'oversqlite/server';
import { PROTOCOL_VERSION } from 'oversqlite/protocol';

const secret = 'packaging-test-secret-0123456789abcdef';
const sync = await createSyncServer({
  database: { connectionString: process.env.DATABASE_URL },
  tables: [{ schema: 'app', table: 'notes', syncKey: 'id' }],
});
const auth = createJwtAuth({ secret });
const http = createServer(toNodeHandler(sync.handle, auth.authenticate));
await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
process.on('SIGTERM', async () => {
  http.closeAllConnections();
  http.close();
  await sync.close();
  process.exit(0);
});
console.log(JSON.stringify({
  port: http.address().port,
  token: await signDevToken(secret, 'ada', 600),
  protocolVersion: PROTOCOL_VERSION,
  resolved: { server: import.meta.resolve('oversqlite/server'), protocol: import.meta.resolve('oversqlite/protocol') },
  execArgv: process.execArgv,
}));
`;

interface AppInfo {
  port: number;
  token: string;
  protocolVersion: string;
  resolved: { server: string; protocol: string };
  execArgv: string[];
}

let packed: PackedProject;
let db: TestDatabase;
let app: ChildProcess | undefined;

beforeAll(async () => {
  packed = packAndInstall('server-node');
  db = await createTestDatabase('packed_server');
  await db.exec(`
    CREATE SCHEMA app;
    CREATE TABLE app.notes (_sync_scope_id text NOT NULL, id uuid NOT NULL, body text, PRIMARY KEY (_sync_scope_id, id));
  `);
}, 120_000);

afterAll(async () => {
  if (app && app.exitCode === null) {
    const exited = new Promise((resolve) => app!.once('exit', resolve));
    app.kill('SIGTERM');
    await exited;
  }
  await db?.drop();
  packed?.dispose();
});

/** Starts `node app.mjs` in the consumer project; resolves with the line it prints once listening. */
function startApp(): Promise<AppInfo> {
  writeFileSync(join(packed.projectDir, 'app.mjs'), APP);
  const child = spawn(process.execPath, ['app.mjs'], {
    cwd: packed.projectDir,
    env: cleanEnv({ DATABASE_URL: db.connectionString ?? '' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  app = child;
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as AppInfo);
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`app exited with ${code} before listening:\n${stderr}${stdout}`)));
  });
}

it('serves /sync/capabilities v1 from the packed dist/ in plain node', async () => {
  // The PGlite run of the server suite has no PostgreSQL connection string to hand to the app.
  if (db.connectionString === null) return;
  const info = await startApp();
  expect(info.execArgv).toEqual([]);
  expect(info.resolved.server).toBe(`file://${packed.packageDir}/dist/server/index.js`);
  expect(info.resolved.protocol).toBe(`file://${packed.packageDir}/dist/protocol/public.js`);

  const res = await fetch(`http://127.0.0.1:${info.port}/sync/capabilities`, {
    headers: { Authorization: `Bearer ${info.token}`, 'Oversync-Source-ID': 'packaging-device' },
  });
  const body = (await res.json()) as { protocol_version: string; registered_tables: string[] };
  expect(res.status).toBe(200);
  expect(body.protocol_version).toBe('v1');
  expect(body.protocol_version).toBe(info.protocolVersion);
  expect(body.registered_tables).toEqual(['app.notes']);

  // The same request without the token is refused by the package's JWT auth.
  const anonymous = await fetch(`http://127.0.0.1:${info.port}/sync/capabilities`, {
    headers: { 'Oversync-Source-ID': 'packaging-device' },
  });
  expect(anonymous.status).toBe(401);
}, 30_000);

it('ships dist/ and the sources its maps point at, and nothing of tests, bench or demo', () => {
  expect(packed.files).toContain('dist/server/index.js');
  expect(packed.files).toContain('dist/server/index.d.ts');
  expect(packed.files).toContain('dist/server/index.d.ts.map');
  expect(packed.files).toContain('dist/server/reference/schema.sql');
  expect(packed.files).toContain('dist/worker/worker-entry.js');
  expect(packed.files).toContain('server/index.ts');
  expect(packed.files).toContain('README.md');
  // Every source a (declaration) map names is in the tarball, so go-to-definition and stack
  // traces land in real TypeScript rather than nowhere.
  const missing: string[] = [];
  for (const map of packed.files.filter((f) => f.endsWith('.map'))) {
    const { sources } = JSON.parse(readFileSync(join(packed.packageDir, map), 'utf8')) as { sources: string[] };
    for (const source of sources) {
      const path = relative(packed.packageDir, resolve(packed.packageDir, dirname(map), source));
      if (!packed.files.includes(path)) missing.push(`${map} -> ${source}`);
    }
  }
  expect(missing).toEqual([]);
  const stray = packed.files.filter(
    (f) => /^(test|e2e|bench|demo|interop|scripts|node_modules|dist\/demo)\//.test(f) || /(^|\/)tsconfig/.test(f),
  );
  expect(stray).toEqual([]);
});
