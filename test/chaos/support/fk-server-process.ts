/**
 * The FK-schema sync server (`fk-server-main.ts`) as a real child process that chaos runs kill
 * with SIGKILL (mid-commit: the kill lands while a device's commit request is in flight) and start
 * again on the same port, so devices keep one URL across restarts.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = 'test/chaos/support/fk-server-main.ts';

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

async function start(databaseUrl: string, port: number): Promise<{ running: Running; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      output.push(chunk.toString('utf8'));
      const m = /chaos server on (http:\/\/\S+)/.exec(buffered);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    void exited.then(() => reject(new Error(`chaos server exited before listening:\n${output.join('')}`)));
  });
  return { running: { child, exited }, url };
}

/**
 * Ports below the kernel's ephemeral range (32768+ on Linux): a port from that range, freed by a
 * SIGKILL, can be taken as the source port of any outgoing connection before the restart binds it
 * again (seen once in a 1,000-run job: EADDRINUSE ended the whole job).
 */
const PORT_FIRST = 20000;
const PORT_SPAN = 12000;

/** `start`, again while the port is in use: up to `attempts` times, 100 ms apart. */
async function startOnPort(databaseUrl: string, port: number, attempts: number): Promise<{ running: Running; url: string }> {
  for (let i = 1; ; i++) {
    try {
      return await start(databaseUrl, port);
    } catch (e) {
      if (i >= attempts || !String(e).includes('EADDRINUSE')) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A restartable server process on one port. */
export class FkServerProcess {
  private constructor(
    private readonly databaseUrl: string,
    private running: Running,
    /** `http://127.0.0.1:<port>`, the same after every restart. */
    readonly url: string,
  ) {}

  /** Resolves when the process is up again after the last {@link kill} (at once when never killed). */
  ready: Promise<void> = Promise.resolve();
  kills = 0;

  static async start(databaseUrl: string): Promise<FkServerProcess> {
    for (let i = 1; ; i++) {
      const port = PORT_FIRST + Math.floor(Math.random() * PORT_SPAN);
      try {
        const { running, url } = await start(databaseUrl, port);
        return new FkServerProcess(databaseUrl, running, url);
      } catch (e) {
        if (i >= 20 || !String(e).includes('EADDRINUSE')) throw e;
      }
    }
  }

  /**
   * SIGKILL now (no graceful anything: in-flight requests and open transactions die with it), then
   * start again on the same port in the background; `ready` says when. A kill while restarting is
   * ignored.
   */
  kill(): void {
    if (this.running.child.exitCode !== null || this.running.child.signalCode !== null) return;
    this.kills++;
    const old = this.running;
    old.child.kill('SIGKILL');
    const port = Number(new URL(this.url).port);
    this.ready = old.exited.then(async () => {
      this.running = (await startOnPort(this.databaseUrl, port, 100)).running;
    });
  }

  async stop(): Promise<void> {
    await this.ready.catch(() => undefined);
    if (this.running.child.exitCode === null && this.running.child.signalCode === null) this.running.child.kill('SIGTERM');
    await this.running.exited;
  }
}
