/**
 * The browser side of the benchmarks: the bench page built by Vite and served by `vite preview`, and Debian Chromium with
 * a persistent profile (real on-disk OPFS; an incognito context keeps OPFS in memory and commits
 * about 7× slower, see docs/toolchain.md).
 */
import { chromium } from '@playwright/test';
import type { BrowserContext, Page } from '@playwright/test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';
import type { PreviewServer } from 'vite';
import type { Bench } from '../app/main.ts';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

declare global {
  interface Window {
    bench: Bench;
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running bench page server plus a persistent Chromium profile. */
export class BenchBrowser {
  private constructor(
    private readonly vite: PreviewServer,
    readonly context: BrowserContext,
    /** The Chromium profile directory (its processes carry it on their command line). */
    readonly profile: string,
    readonly baseURL: string,
  ) {}

  /** Starts Vite (proxying /sync to `syncUrl` when given) and launches Chromium on a fresh profile. */
  static async start(syncUrl?: string): Promise<BenchBrowser> {
    const port = await freePort();
    if (syncUrl) process.env.BENCH_SYNC_URL = syncUrl;
    else delete process.env.BENCH_SYNC_URL;
    process.env.BENCH_PORT = String(port);
    const outDir = mkdtempSync(join(tmpdir(), 'oversqlite-bench-dist-'));
    process.env.BENCH_OUT_DIR = outDir;
    const configFile = fileURLToPath(new URL('../vite.config.ts', import.meta.url));
    await build({ configFile, logLevel: 'error' });
    const vite = await preview({ configFile, logLevel: 'error' });
    const profile = mkdtempSync(join(tmpdir(), 'oversqlite-bench-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArgs, headless: true });
    const browser = new BenchBrowser(vite, context, profile, `http://127.0.0.1:${port}`);
    // Warm-up: the first load fills the HTTP cache and compiles the wasm once.
    const warm = await browser.openTab();
    await warm.close();
    return browser;
  }

  /** Opens the bench page in a new tab. */
  async openTab(): Promise<Page> {
    const page = await this.context.newPage();
    page.on('pageerror', (error) => console.log(`  [page error] ${error.message}`));
    await page.goto(`${this.baseURL}/`);
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'ready', undefined, { timeout: 60_000 });
    return page;
  }

  /**
   * CPU time (user + system, ms) the renderer processes of this browser have used so far: the
   * page and its workers, i.e. SQLite and JavaScript, but not the browser process's file I/O.
   * Read from /proc (Linux); the least load-sensitive number a browser probe can take.
   */
  rendererCpuMs(): number {
    const stat = (pid: string) => {
      try {
        const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name, which is in parentheses and may hold spaces.
        return text.slice(text.lastIndexOf(')') + 2).split(' ');
      } catch {
        return undefined;
      }
    };
    const cmdline = (pid: string) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
    const parent = new Map(pids.map((pid) => [pid, stat(pid)?.[1]]));
    const roots = new Set(pids.filter((pid) => cmdline(pid).includes(this.profile)));
    const ours = (pid: string): boolean => {
      for (let p: string | undefined = pid; p && p !== '0'; p = parent.get(p)) if (roots.has(p)) return true;
      return false;
    };
    let ticks = 0;
    for (const pid of pids) {
      if (!ours(pid) || !cmdline(pid).includes('--type=renderer')) continue;
      const fields = stat(pid);
      // utime and stime: fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the name).
      if (fields) ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks * 10; // USER_HZ is 100 on Linux
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    await this.vite.close().catch(() => undefined);
    if (process.env.BENCH_OUT_DIR) rmSync(process.env.BENCH_OUT_DIR, { recursive: true, force: true });
    rmSync(this.profile, { recursive: true, force: true });
  }
}
