/**
 * The FK-schema sync server (`fk-server-main.ts`) as a real child process that chaos runs kill
 * with SIGKILL (mid-commit: the kill lands while a device's commit request is in flight) and start
 * again. Devices keep one URL across restarts: they talk to a TCP front in this process that
 * forwards each connection to the current child. Each child listens on a port the kernel picks
 * (port 0), so a restart never waits for a freed port (restarting on the same port ended two
 * 1,000-run jobs with EADDRINUSE). While the child is down, a new connection is reset at once
 * (what a client of a dead server sees), and a kill resets every forwarded connection.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = 'test/chaos/support/fk-server-main.ts';

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  port: number;
}

async function start(databaseUrl: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      output.push(chunk.toString('utf8'));
      const m = /chaos server on http:\/\/127\.0\.0\.1:(\d+)/.exec(buffered);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    void exited.then(() => reject(new Error(`chaos server exited before listening:\n${output.join('')}`)));
  });
  return { child, exited, port };
}

function alive(r: Running): boolean {
  return r.child.exitCode === null && r.child.signalCode === null;
}

/** A restartable server process behind one fixed URL. */
export class FkServerProcess {
  private readonly open = new Set<Socket>();

  private constructor(
    private readonly databaseUrl: string,
    private running: Running,
    private readonly front: Server,
    /** `http://127.0.0.1:<port>` of the front, the same after every restart. */
    readonly url: string,
  ) {}

  /** Resolves when the process is up again after the last {@link kill} (at once when never killed). */
  ready: Promise<void> = Promise.resolve();
  kills = 0;

  static async start(databaseUrl: string): Promise<FkServerProcess> {
    const running = await start(databaseUrl);
    const front = createServer({ noDelay: true });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    const self = new FkServerProcess(databaseUrl, running, front, url);
    front.on('connection', (client) => self.forward(client));
    return self;
  }

  private forward(client: Socket): void {
    client.setNoDelay(true);
    if (!alive(this.running)) {
      client.resetAndDestroy();
      return;
    }
    const backend = new Socket();
    backend.setNoDelay(true);
    this.open.add(client);
    const close = (): void => {
      this.open.delete(client);
      // A reset on either side is passed on as a reset; a clean end as an end (the pipes do that).
      if (!client.destroyed) client.resetAndDestroy();
      if (!backend.destroyed) backend.resetAndDestroy();
    };
    client.on('error', close);
    backend.on('error', close);
    client.on('close', () => this.open.delete(client));
    backend.connect(this.running.port, '127.0.0.1');
    client.pipe(backend);
    backend.pipe(client);
  }

  /**
   * SIGKILL now (no graceful anything: in-flight requests and open transactions die with it), then
   * start a new process in the background; `ready` says when. A kill while restarting is ignored.
   */
  kill(): void {
    if (!alive(this.running)) return;
    this.kills++;
    const old = this.running;
    old.child.kill('SIGKILL');
    this.ready = old.exited.then(async () => {
      for (const s of this.open) s.resetAndDestroy();
      this.open.clear();
      this.running = await start(this.databaseUrl);
    });
  }

  async stop(): Promise<void> {
    await this.ready.catch(() => undefined);
    if (alive(this.running)) this.running.child.kill('SIGTERM');
    await this.running.exited;
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.front.close(() => resolve()));
  }
}
