/**
 * go-oversync's own example server (commit 1f1118f, `examples/nethttp_server`) as a process: built
 * from the shared source by `interop/go-build.mjs` (our `interop/go-server` main imports the
 * example's `server.SetupServer`), started on a free port against a fresh PostgreSQL database.
 * Used by the Node lane (`go-peer.ts`) and by the browser spec `e2e/go-oversync-two-devices.spec.ts`.
 * No engine imports here, so Playwright's loader can take it as is.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { DummySigninRequest, DummySigninResponse } from '../../../protocol/wire.ts';

interface PeerLocationModule {
  locatePeer(env?: NodeJS.ProcessEnv): { path: string } | { path: null; reason: string };
  PEER_INSTRUCTION: string;
}
interface GoBuildModule {
  hasGo(): boolean;
  buildGoProgram(o: { folder: string; peerPath: string; log?: (line: string) => void }): { binary: string; cached: boolean; ms: number };
}

// The interop scripts are plain ESM (.mjs, run by node directly); imported by URL so the type
// checker needs no declarations for them.
function peerLocation(): Promise<PeerLocationModule> {
  return import(new URL('../../peer-location.mjs', import.meta.url).href) as Promise<PeerLocationModule>;
}
function goBuild(): Promise<GoBuildModule> {
  return import(new URL('../../go-build.mjs', import.meta.url).href) as Promise<GoBuildModule>;
}

const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const ADMIN_URL = process.env.OVERSQLITE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Where go-oversync is, or why the lane cannot run (`peerPath` null; the instruction is printed).
 * Under CI=true a missing peer or Go toolchain throws: the lane may not be skipped there.
 */
export async function peerAvailability(): Promise<{ peerPath: string | null; reason: string }> {
  const location = await peerLocation();
  const found = location.locatePeer();
  let reason = '';
  if (found.path === null) reason = 'reason' in found ? found.reason : 'go-oversync not found';
  else if (!(await goBuild()).hasGo()) reason = 'Go is not installed (go-oversync is built from source; cgo needs a C compiler too)';
  if (!reason && found.path !== null) return { peerPath: found.path, reason: '' };
  const message = `go-oversync interop lane: ${reason}; to run it: ${location.PEER_INSTRUCTION}`;
  if (IN_CI) throw new Error(`${message} (CI=true: the lane may not be skipped)`);
  console.log(`SKIPPED — ${message}`);
  return { peerPath: null, reason: message };
}

/** The running example server and its database. */
export interface GoServer {
  /** `http://127.0.0.1:<port>` (the example's CORS middleware lets a browser page call it). */
  baseUrl: string;
  /** Direct access to the server's PostgreSQL database. */
  pg: pg.Pool;
  /** A JWT for `user` from the example's `/dummy-signin` (valid 5 minutes). */
  token(user: string): Promise<string>;
  /** Server log (stderr), for failure messages. */
  log(): string;
  close(): Promise<void>;
}

function waitForListening(child: ChildProcess, stderr: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`go-server exited before listening (code ${code}, signal ${signal}):\n${stderr.join('').slice(-4000)}`));
    child.once('exit', onExit);
    child.once('error', reject);
    lines.on('line', (line) => {
      const m = /^LISTENING (\S+)$/.exec(line.trim());
      if (!m) return;
      child.off('exit', onExit);
      resolve(m[1]!);
    });
  });
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Builds (cached) and starts go-oversync's example server on a fresh database. */
export async function startGoServer(peerPath: string): Promise<GoServer> {
  const { binary } = (await goBuild()).buildGoProgram({ folder: 'go-server', peerPath, log: (l) => console.log(l) });
  const dbName = `oversqlite_goex_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  url.searchParams.set('sslmode', 'disable');
  const stderr: string[] = [];
  const child = spawn(binary, ['-addr', '127.0.0.1:0', '-db', url.toString(), '-secret', randomBytes(16).toString('hex')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let addr: string;
  try {
    addr = await waitForListening(child, stderr);
  } catch (e) {
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    throw e;
  }
  const baseUrl = `http://${addr}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // An idle client ended by the database drop at close reports it here; nothing is using it then.
  let closing = false;
  pool.on('error', (e) => {
    if (!closing) throw e;
  });
  return {
    baseUrl,
    pg: pool,
    async token(user) {
      const res = await fetch(`${baseUrl}/dummy-signin`, {
        method: 'POST',
        body: JSON.stringify({ user, password: 'x' } satisfies DummySigninRequest),
      });
      if (!res.ok) throw new Error(`dummy-signin ${res.status}: ${await res.text()}`);
      return ((await res.json()) as DummySigninResponse).token;
    },
    log: () => stderr.join(''),
    async close() {
      closing = true;
      await pool.end();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    },
  };
}
