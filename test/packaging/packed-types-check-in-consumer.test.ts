// The packed declarations type a consumer's code: tsc (strict, skipLibCheck off, so the shipped
// .d.ts files themselves are checked) compiles without errors in the consumer or the package a file that uses the public API of `oversqlite`,
// `oversqlite/server`, `oversqlite/protocol` and `oversqlite/server/reference`, under Node's
// resolution (a server app) and under bundler resolution (a Vite app). `@ts-expect-error` lines
// prove the types are real: were anything `any`, the unused directive would fail the check.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, cleanEnv, packAndInstall } from './packed-package.ts';
import type { PackedProject } from './packed-package.ts';

const CONSUMER = `
import type { Database, OpenDatabaseOptions, SyncStatus, WorkerFactory } from 'oversqlite';
import { openDatabase, OversqliteError } from 'oversqlite';
import type { SyncServer, SyncServerOptions, RegisteredTable } from 'oversqlite/server';
import { createSyncServer, createJwtAuth, toNodeHandler } from 'oversqlite/server';
import { PROTOCOL_VERSION } from 'oversqlite/protocol';
import type { ReferenceServerOptions } from 'oversqlite/server/reference';

export async function client(createWorker: WorkerFactory): Promise<SyncStatus | string> {
  const options: OpenDatabaseOptions = {
    name: 'notes',
    schema: { version: 1, migrations: ['CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT)'] },
    createWorker,
  };
  const db: Database = await openDatabase(options);
  const rows = await db.query<{ id: string }>('SELECT id FROM notes');
  // @ts-expect-error rows are typed by the query's type argument
  const wrong: number = rows[0]!.id;
  void wrong;
  // @ts-expect-error the schema needs a version
  await openDatabase({ name: 'x', schema: { migrations: [] } });
  try {
    await db.close();
  } catch (err) {
    if (err instanceof OversqliteError) return err.code;
  }
  return PROTOCOL_VERSION;
}

export async function server(connectionString: string): Promise<SyncServer> {
  const tables: RegisteredTable[] = [{ schema: 'app', table: 'notes', syncKey: 'id' }];
  const options: SyncServerOptions = { database: { connectionString }, tables };
  const sync = await createSyncServer(options);
  const auth = createJwtAuth({ secret: 'secret' });
  toNodeHandler(sync.handle, auth.authenticate);
  // @ts-expect-error tables are required
  await createSyncServer({ database: { connectionString } });
  const reference: ReferenceServerOptions = { port: 0, databaseUrl: connectionString };
  void reference;
  return sync;
}
`;

// A server-only project: no DOM lib, the server API must type with Node's globals alone.
const SERVER_CONSUMER = `
import type { SyncServer, SqlDatabase } from 'oversqlite/server';
import { createSyncServer, createPostgresDatabase, signDevToken } from 'oversqlite/server';
import { PROTOCOL_VERSION, type CapabilitiesResponse } from 'oversqlite/protocol';

export async function start(connectionString: string): Promise<[SyncServer, string, CapabilitiesResponse['protocol_version']]> {
  const database: SqlDatabase = createPostgresDatabase({ connectionString });
  const sync = await createSyncServer({ database, tables: [{ schema: 'app', table: 'notes', syncKey: 'id' }] });
  // @ts-expect-error the token lifetime is a number of seconds
  await signDevToken('secret', 'ada', '1h');
  return [sync, await signDevToken('secret', 'ada', 60), PROTOCOL_VERSION];
}
`;

const COMPILER_OPTIONS = {
  target: 'ES2022',
  strict: true,
  noEmit: true,
  skipLibCheck: false,
  lib: ['ES2022', 'DOM', 'DOM.Iterable'],
  types: ['node'],
};

let packed: PackedProject;

beforeAll(() => {
  // @types/pg: `PostgresDatabaseOptions` accepts a host's `pg.Pool`, so pg's types are part of the API.
  packed = packAndInstall('types', ['typescript', '@types/node', '@types/pg']);
  writeFileSync(join(packed.projectDir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(packed.projectDir, 'consumer.ts'), CONSUMER);
  writeFileSync(join(packed.projectDir, 'server-consumer.ts'), SERVER_CONSUMER);
}, 120_000);

afterAll(() => packed?.dispose());

/**
 * Runs tsc; returns the files of the program. Errors inside third-party declarations (reached
 * through their real paths in the repository's node_modules) are not ours to fix and are left
 * out: @electric-sql/pglite's .d.ts needs @types/emscripten, which it does not depend on.
 */
function typeCheck(name: string, options: Record<string, unknown>, file = 'consumer.ts'): string {
  const config = `tsconfig.${name}.json`;
  writeFileSync(join(packed.projectDir, config), JSON.stringify({ compilerOptions: { ...COMPILER_OPTIONS, ...options }, files: [file] }));
  const tsc = (...args: string[]) => {
    try {
      return execFileSync(process.execPath, [join(packed.projectDir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config, ...args], {
        cwd: packed.projectDir,
        env: cleanEnv(),
        encoding: 'utf8',
      });
    } catch (err) {
      return (err as { stdout?: string }).stdout ?? String(err);
    }
  };
  const errors = tsc('--pretty', 'false')
    .split('\n')
    .filter((line) => /error TS\d+/.test(line))
    .filter((line) => {
      const file = /^(.+?)\(\d+,\d+\): error/.exec(line)?.[1];
      return file === undefined || !resolve(packed.projectDir, file).startsWith(join(REPO_ROOT, 'node_modules') + '/');
    });
  expect(errors).toEqual([]);
  return tsc('--listFilesOnly');
}

it('type-checks under Node resolution (nodenext)', () => {
  const files = typeCheck('nodenext', { module: 'nodenext', moduleResolution: 'nodenext' });
  // The declarations come from the unpacked tarball's dist/, never from sources.
  expect(files).toContain(`${packed.packageDir}/dist/server/index.d.ts`);
  expect(files).toContain(`${packed.packageDir}/dist/src/index.d.ts`);
  expect(files).not.toMatch(/oversqlite\/(src|server|worker|protocol)\/[^\n]*\.ts\n/);
}, 60_000);

it('type-checks under bundler resolution (a Vite app)', () => {
  const files = typeCheck('bundler', { module: 'esnext', moduleResolution: 'bundler' });
  expect(files).toContain(`${packed.packageDir}/dist/src/index.d.ts`);
}, 60_000);

it('type-checks a server-only project (Node globals, no DOM lib)', () => {
  const files = typeCheck('server-only', { module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022'] }, 'server-consumer.ts');
  expect(files).toContain(`${packed.packageDir}/dist/protocol/public.d.ts`);
  expect(files).not.toMatch(/lib\.dom\.d\.ts/);
}, 60_000);
