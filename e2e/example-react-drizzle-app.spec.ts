/**
 * The example app examples/react-drizzle (React binding + Drizzle) end to end, served by Vite from
 * its own config against the reference server on a fresh PostgreSQL database:
 * - two devices (browser contexts with their own OPFS) converge: a project and task added on one
 *   appear on the other, a toggle made there comes back;
 * - an edit made while the server is down survives a reload, and reaches the other device once the
 *   server is back;
 * - a second tab of the same device (a follower) adds a task that the first tab's live list shows.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import type { BrowserContext, Page } from '@playwright/test';
import { createFreshDatabase } from '../test/server-edges/fixtures/postgres-database.ts';
import type { FreshDatabase } from '../test/server-edges/fixtures/postgres-database.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
let database: FreshDatabase;
let server: ChildProcess | undefined;
let vite: ChildProcess | undefined;
let serverPort = 0;
let appUrl = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts a child process and resolves when a stdout line matches `ready`. */
function start(command: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output: string[] = [];
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (ready.test(line)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited (${code}):\n${output.join('\n')}`)));
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  await exited;
}

function startServer(): Promise<ChildProcess> {
  return start(
    ['node', '--import', 'tsx', 'server/reference/main.ts'],
    { PORT: String(serverPort), HOST: '127.0.0.1', DATABASE_URL: database.url },
    /reference server on http:/,
  );
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  database = await createFreshDatabase('example_app');
  serverPort = await freePort();
  server = await startServer();
  const vitePort = await freePort();
  vite = await start(
    ['node', 'node_modules/vite/bin/vite.js', '--config', 'examples/react-drizzle/vite.config.ts', '--strictPort', '--logLevel', 'info'],
    // Vite's banner styles the word, so only `Local` itself is matched.
    { PORT: String(vitePort) },
    /Local/,
  );
  appUrl = `http://127.0.0.1:${vitePort}/?server=${encodeURIComponent(`http://127.0.0.1:${serverPort}`)}`;
});

test.afterAll(async () => {
  await stop(vite);
  await stop(server);
  await database?.drop();
});

async function openApp(context: BrowserContext, user: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`[example page error] ${error.message}`));
  await page.goto(`${appUrl}&user=${user}`);
  await expect(page.getByRole('button', { name: 'Add project' })).toBeVisible({ timeout: 30_000 });
  return page;
}

const taskTitles = (page: Page) => page.getByTestId('tasks').locator('li');

test('two devices converge, offline edits survive a reload, tabs share live lists', async ({ browser }) => {
  test.setTimeout(180_000);
  const user = `example-${Date.now()}`;
  const deviceA = await browser.newContext();
  const deviceB = await browser.newContext();
  const a = await openApp(deviceA, user);
  await a.waitForFunction((u) => document.body.getAttribute('data-attached') === u, user);
  await a.getByLabel('New project').fill('Home');
  await a.getByRole('button', { name: 'Add project' }).click();
  await a.getByLabel('New task').fill('Buy milk');
  await a.getByRole('button', { name: 'Add task' }).click();
  await expect(taskTitles(a)).toHaveText(['Buy milk']);
  await expect(a.getByTestId('pending')).toHaveText('0 pending', { timeout: 20_000 });

  // Device B: a fresh device hydrates, then follows A through the watch stream.
  const b = await openApp(deviceB, user);
  await b.getByRole('button', { name: /^Home/ }).click();
  await expect(taskTitles(b)).toHaveText(['Buy milk'], { timeout: 20_000 });
  // A controlled checkbox: it shows checked once the write is back through the live query.
  await b.getByRole('checkbox').click();
  await expect(b.getByRole('checkbox')).toBeChecked();
  await expect(a.getByRole('checkbox')).toBeChecked({ timeout: 20_000 });

  // The server goes down; A edits, reloads (the page comes from Vite, the data from OPFS).
  await stop(server);
  await a.getByLabel('New task').fill('Written offline');
  await a.getByRole('button', { name: 'Add task' }).click();
  await expect(taskTitles(a)).toHaveText(['Buy milk', 'Written offline']);
  await a.reload();
  await expect(a.getByRole('button', { name: 'Add project' })).toBeVisible({ timeout: 30_000 });
  await a.getByRole('button', { name: /^Home/ }).click();
  await expect(taskTitles(a)).toHaveText(['Buy milk', 'Written offline']);
  await expect(a.getByTestId('pending')).not.toHaveText('0 pending');

  // The server is back: A's pending edit reaches B.
  server = await startServer();
  await a.getByRole('button', { name: 'Sync now' }).click();
  await expect(a.getByTestId('pending')).toHaveText('0 pending', { timeout: 30_000 });
  await b.getByRole('button', { name: 'Sync now' }).click();
  await expect(taskTitles(b)).toHaveText(['Buy milk', 'Written offline'], { timeout: 20_000 });

  // A second tab on device A (a follower tab): its write shows in the first tab's live list.
  const a2 = await openApp(deviceA, user);
  await a2.getByRole('button', { name: /^Home/ }).click();
  await a2.getByLabel('New task').fill('From tab two');
  await a2.getByRole('button', { name: 'Add task' }).click();
  await expect(taskTitles(a)).toHaveText(['Buy milk', 'Written offline', 'From tab two']);
  await expect(a.getByRole('button', { name: /^Home/ })).toHaveText('Home (3)');
  await deviceA.close();
  await deviceB.close();
});
