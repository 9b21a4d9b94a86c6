/**
 * The sync server under test, in a child process of its own (so the load generator and browser
 * devices do not share its event loop), started through the project's test harness
 * `startSyncServer()` (a fresh real PostgreSQL database, real HTTP). Tokens are minted in the child.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the harness lives; its absence means the server side has not landed yet. */
export const harnessPath = fileURLToPath(new URL('../../test/harness/sync-server.ts', import.meta.url));

/** A running sync server. */
export interface BenchSyncServer {
  readonly baseUrl: string;
  tokenFor(userId: string): Promise<string>;
  /** The PostgreSQL baseline: `rows` bench rows inserted straight into a plain table in one transaction; ms. */
  pgInsert(scope: string, rows: number): Promise<number>;
  /** Server-originated bundles (writeAs) holding `rows` bench rows for `userId`; ms. */
  seed(userId: string, rows: number): Promise<number>;
  close(): Promise<void>;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** Why the sync server cannot start here, or undefined when it can. */
export function syncServerUnavailable(): string | undefined {
  return existsSync(harnessPath) ? undefined : 'test/harness/sync-server.ts (startSyncServer) is not in this checkout yet';
}

/** A server child (one of this folder's `*-server-process.ts`) and its IPC requests. */
interface ServerChild {
  readonly baseUrl: string;
  request(op: string, arg?: string, rows?: number): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Forks `module` (a child answering `start`, ... `close` over IPC, see sync-server-process.ts) and
 * waits until it reports its base URL. `BENCH_SERVER_CPU_PROF=<dir>` writes a V8 CPU profile of
 * the child (for profiling findings).
 */
async function startServerChild(module: URL): Promise<ServerChild> {
  const child: ChildProcess = fork(fileURLToPath(module), [], {
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_SERVER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVER_CPU_PROF}`] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`sync server process exited with ${code}`))),
  );
  exited.catch(() => undefined);
  child.on('message', (message: Reply) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.value);
    else waiter.reject(new Error(message.error));
  });
  child.once('exit', () => {
    for (const w of pending.values()) w.reject(new Error('sync server process exited'));
    pending.clear();
  });
  const request = (op: string, arg?: string, rows?: number): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, op, arg, rows });
    });
  const baseUrl = (await Promise.race([request('start'), exited])) as string;
  return {
    baseUrl,
    request,
    close: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await request('close').catch(() => undefined);
      // Let it exit by itself (so a CPU profile gets written); kill it if it hangs.
      const timer = setTimeout(() => child.kill(), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Starts the server child and waits until it reports its base URL. */
export async function startBenchSyncServer(): Promise<BenchSyncServer> {
  const reason = syncServerUnavailable();
  if (reason) throw new Error(reason);
  const child = await startServerChild(new URL('./sync-server-process.ts', import.meta.url));
  return {
    baseUrl: child.baseUrl,
    tokenFor: async (userId) => (await child.request('token', userId)) as string,
    pgInsert: async (scope, rows) => (await child.request('pgInsert', scope, rows)) as number,
    seed: async (userId, rows) => (await child.request('seed', userId, rows)) as number,
    close: () => child.close(),
  };
}

/** Our sync server serving go-oversync's example schema (see example-server-process.ts). */
export interface ExampleSyncServer {
  readonly baseUrl: string;
  tokenFor(userId: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts our server with go-oversync's example schema and its shipped defaults, in a child process. */
export async function startExampleSyncServer(): Promise<ExampleSyncServer> {
  const child = await startServerChild(new URL('./example-server-process.ts', import.meta.url));
  return {
    baseUrl: child.baseUrl,
    tokenFor: async (userId) => (await child.request('token', userId)) as string,
    close: () => child.close(),
  };
}
