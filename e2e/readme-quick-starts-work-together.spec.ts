/**
 * The README's two quick starts work together as written: `npm run server` (the reference server,
 * here on a throwaway in-memory PGlite and a free port), its curl sign-in and capabilities call,
 * and the README's client code block, run unchanged but for the server's port, on two devices
 * (browser contexts with their own OPFS) that end up with the same tasks.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { openTab } from './page-helpers.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The first ```ts block after `heading`. */
function codeBlockAfter(heading: string): string {
  const from = readme.indexOf(heading);
  expect(from, `README heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const match = /```(\w+)\n([\s\S]*?)```/.exec(readme.slice(from));
  expect(match, `a code block after "${heading}"`).not.toBeNull();
  return match![2]!;
}

let server: ChildProcess | undefined;
let serverUrl = '';

test.beforeAll(async () => {
  // `npm run server`, as the README says; PORT=0 takes a free port, the log line names it.
  server = spawn('npm', ['run', 'server'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', PGLITE_DIR: 'memory://' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so the npm → tsx → node chain stops together
  });
  const lines = createInterface({ input: server.stdout! });
  const stderr: string[] = [];
  server.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  serverUrl = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = /reference server on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    server!.once('exit', (code) => reject(new Error(`npm run server exited (${code}): ${stderr.join('')}`)));
  });
});

test.afterAll(async () => {
  if (server?.pid === undefined || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server!.once('exit', resolve));
  process.kill(-server.pid, 'SIGTERM');
  await exited;
});

/** Runs the README client block in `page`; the database stays on `window.readmeDb`. */
async function runClientQuickStart(page: Page, code: string): Promise<void> {
  await page.evaluate(
    async ({ code, srcUrl }) => {
      const { openDatabase } = (await import(srcUrl)) as typeof import('../src/index.ts');
      const w = window as unknown as { readmeDb: unknown; rendered: unknown[][]; badges: unknown[] };
      w.rendered = [];
      w.badges = [];
      const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
        ...args: string[]
      ) => (...a: unknown[]) => Promise<unknown>;
      const run = new AsyncFunction('openDatabase', 'render', 'badge', `${code}\nreturn db;`);
      w.readmeDb = await run(
        openDatabase,
        (rows: unknown[]) => w.rendered.push(rows),
        (...b: unknown[]) => w.badges.push(b),
      );
    },
    { code, srcUrl: `/@fs${repoRoot}src/index.ts` },
  );
}

async function tasksOf(
  page: Page,
): Promise<{ titles: string[]; ids: string[]; projects: number; pending: number | undefined; lastError: unknown }> {
  return page.evaluate(async () => {
    const db = (window as unknown as { readmeDb: import('../src/index.ts').Database }).readmeDb;
    await db.sync.sync();
    const tasks = await db.query<{ id: string; title: string }>('SELECT id, title FROM tasks ORDER BY id');
    const projects = (await db.query<{ n: number }>('SELECT count(*) AS n FROM projects'))[0]!.n;
    const status = db.sync.status.get();
    return {
      titles: tasks.map((t) => t.title),
      ids: tasks.map((t) => t.id),
      projects,
      pending: status?.pendingCount,
      lastError: status?.lastError ?? null,
    };
  });
}

test('the README client block syncs with `npm run server` as written, on two devices', async ({ browser }) => {
  test.setTimeout(120_000);

  // The server quick start: sign in, then read the capabilities with the token.
  const signin = await fetch(`${serverUrl}/dummy-signin`, { method: 'POST', body: JSON.stringify({ user: 'alice', password: 'x' }) });
  const token = ((await signin.json()) as { token: string }).token;
  const caps = await fetch(`${serverUrl}/sync/capabilities`, {
    headers: { Authorization: `Bearer ${token}`, 'Oversync-Source-ID': 'dev-1' },
  });
  expect(caps.status).toBe(200);

  const block = codeBlockAfter('## Quick start: the client');
  expect(block).toContain("'http://localhost:8080'");
  const code = block.replace(/^import \{ openDatabase \} from 'oversqlite';\n/m, '').replaceAll('http://localhost:8080', serverUrl);
  expect(code).not.toMatch(/^import /m);

  const a = await openTab(await browser.newContext());
  await runClientQuickStart(a, code);
  const b = await openTab(await browser.newContext());
  await runClientQuickStart(b, code);

  const onA = await tasksOf(a); // A pulls B's task
  const onB = await tasksOf(b);
  console.log(`[readme] server ${serverUrl}; device A ${JSON.stringify(onA)}; device B ${JSON.stringify(onB)}`);
  expect(onA.titles).toEqual(['Buy milk', 'Buy milk']);
  expect(onB.ids).toEqual(onA.ids);
  expect(onA.projects).toBe(2);
  expect(onB.projects).toBe(2);
  for (const s of [onA, onB]) expect(s).toMatchObject({ pending: 0, lastError: null });

  // The block's live query rendered the rows and its badge saw the status.
  const seen = await a.evaluate(() => {
    const w = window as unknown as { rendered: Array<Array<{ title: string }>>; badges: unknown[] };
    return { lastRender: w.rendered.at(-1)?.map((r) => r.title), badges: w.badges.length };
  });
  expect(seen.lastRender).toEqual(['Buy milk', 'Buy milk']);
  expect(seen.badges).toBeGreaterThan(0);
});
