// The packed reference server runs in plain `node`: its CLI (dist/server/reference/main.js) starts
// on a fresh PostgreSQL, creates the sample schema from the shipped schema.sql (a file tsc does not
// emit, copied by the build), signs a user in and answers v1 for the sample tables; and
// `startReferenceServer` imports from `oversqlite/server/reference`.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase } from '../harness/test-database.ts';
import type { TestDatabase } from '../harness/test-database.ts';
import { cleanEnv, packAndInstall } from './packed-package.ts';
import type { PackedProject } from './packed-package.ts';

let packed: PackedProject;
let db: TestDatabase;
let cli: ChildProcess | undefined;

beforeAll(async () => {
  packed = packAndInstall('reference');
  db = await createTestDatabase('packed_reference');
}, 120_000);

afterAll(async () => {
  if (cli && cli.exitCode === null) {
    const exited = new Promise((resolve) => cli!.once('exit', resolve));
    cli.kill('SIGTERM');
    await exited;
  }
  await db?.drop();
  packed?.dispose();
});

/** Starts the CLI on port 0; resolves with the URL it logs once listening. */
function startCli(): Promise<string> {
  const child = spawn(process.execPath, [join(packed.packageDir, 'dist', 'server', 'reference', 'main.js')], {
    cwd: packed.projectDir,
    env: cleanEnv({
      DATABASE_URL: db.connectionString ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      JWT_SECRET: 'packaging-reference-secret-0123456789',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cli = child;
  let output = '';
  return new Promise((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /reference server on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) resolve(url);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.once('exit', (code) => reject(new Error(`reference server exited with ${code}:\n${output}`)));
  });
}

it('the CLI serves the sample schema on PostgreSQL and stops on SIGTERM', async () => {
  // The PGlite run of the server suite has no PostgreSQL connection string to hand over.
  if (db.connectionString === null) return;
  const url = await startCli();

  const signin = await fetch(`${url}/dummy-signin`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: 'ada' }),
  });
  expect(signin.status).toBe(200);
  const { token } = (await signin.json()) as { token: string };
  const res = await fetch(`${url}/sync/capabilities`, {
    headers: { Authorization: `Bearer ${token}`, 'Oversync-Source-ID': 'packaging-device' },
  });
  const body = (await res.json()) as { protocol_version: string; registered_tables: string[] };
  expect(res.status).toBe(200);
  expect(body.protocol_version).toBe('v1');
  expect(body.registered_tables).toEqual(['business.comments', 'business.projects', 'business.tasks']);

  const exit = new Promise<number | null>((resolve) => cli!.once('exit', resolve));
  cli!.kill('SIGTERM');
  expect(await exit).toBe(0);
}, 30_000);

it('oversqlite/server/reference exports startReferenceServer to plain node', () => {
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const m = await import('oversqlite/server/reference'); console.log(typeof m.startReferenceServer, import.meta.resolve('oversqlite/server/reference'));",
    ],
    { cwd: packed.projectDir, env: cleanEnv(), encoding: 'utf8' },
  );
  expect(out.trim()).toBe(`function file://${packed.packageDir}/dist/server/reference/reference-server.js`);
});
