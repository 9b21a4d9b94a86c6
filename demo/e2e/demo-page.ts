/**
 * Helpers the demo specs share: open the app in a fresh browser context (a separate "device"),
 * sign in, wait for the sync state the UI shows, and save screenshots under e2e/output/demo/.
 */
import { expect } from '@playwright/test';
import type { Browser, BrowserContext, Locator, Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openCuttableLink } from './cuttable-link.ts';
import type { CuttableLink } from './cuttable-link.ts';

/** Where screenshots go (gitignored). */
export const screenshotDir = fileURLToPath(new URL('../../e2e/output/demo/', import.meta.url));

/** A user name no other spec (or earlier run on a persistent server) uses. */
export function uniqueUser(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/** One device: a browser context with its own OPFS, service worker, storage and network link. */
export interface Device {
  readonly context: BrowserContext;
  readonly page: Page;
  /** The device's road to the sync server, which `setNetwork` cuts. */
  readonly link: CuttableLink;
}

/** The sync server's URL as the built app names it (the sign-in screen shows it). */
let serverUrl: string | undefined;

/**
 * Opens the app on a new device (context) and waits for the sign-in screen. The app reaches the
 * sync server through a link of its own (`?server=`), closed with the context.
 */
export async function openDevice(browser: Browser, label: string): Promise<Device> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`[${label} page error] ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`[${label} console] ${message.text()}`);
  });
  // App files that fail to load are the first thing to know when the offline shell breaks.
  page.on('requestfailed', (request) => {
    if (new URL(request.url()).origin === new URL(page.url() || request.url()).origin) {
      console.log(`[${label} request failed] ${request.url()} ${request.failure()?.errorText ?? ''}`);
    }
  });
  // Read once, in a context of its own: a first load in the device's context would register the
  // service worker for a page about to be left, and the device's page might then never be controlled.
  if (serverUrl === undefined) {
    const probe = await browser.newContext();
    const probePage = await probe.newPage();
    await probePage.goto('/');
    serverUrl = (await probePage.getByTestId('server-url').textContent()) ?? '';
    await probe.close();
  }
  const link = await openCuttableLink(serverUrl);
  context.on('close', () => void link.close());
  await page.goto(`/?server=${encodeURIComponent(link.url)}`);
  await expect(page.locator('body')).toHaveAttribute('data-state', /signin|app/);
  return { context, page, link };
}

/**
 * Cuts the device's network (or restores it) as a real lost connection would: the device's link
 * to the sync server drops every connection (so no request of the page, its database worker or
 * its service worker gets through, which offline emulation alone does not promise, Playwright
 * #2311), and `context.setOffline` makes the page's `online`/`offline` events and
 * `navigator.onLine` follow. App files still come from the service worker's cache.
 */
export async function setNetwork(device: Device, state: 'offline' | 'online'): Promise<void> {
  if (state === 'offline') {
    device.link.cut();
    await device.context.setOffline(true);
    return;
  }
  // The engine syncs only while the page says online, so connections refused while cut are news
  // (the reloaded page's token request is expected); say so in the log without failing.
  const refused = device.link.restore();
  if (refused > 0) console.log(`[offline device] ${refused} connection(s) to the sync server refused while cut`);
  await device.context.setOffline(false);
}

/**
 * The scene most specs start from: a new user signed in on two devices, A having created
 * `project` with `tasks` (synced), and B showing them.
 */
export async function twoDevicesSharingAProject(
  browser: Browser,
  userPrefix: string,
  project: string,
  tasks: readonly string[],
): Promise<{ a: Device; b: Device }> {
  const user = uniqueUser(userPrefix);
  const a = await openDevice(browser, 'A');
  await signIn(a.page, user);
  await addProject(a.page, project);
  for (const title of tasks) await addTask(a.page, title);
  await expectSynced(a.page);
  const b = await openDevice(browser, 'B');
  await signIn(b.page, user);
  await expect.poll(() => taskTitles(b.page)).toEqual(tasks);
  return { a, b };
}

/** Signs in as `user` and waits until the app is attached to the server. */
export async function signIn(page: Page, user: string): Promise<void> {
  await page.getByTestId('signin-user').fill(user);
  await page.getByTestId('signin-password').fill('demo');
  await page.getByTestId('signin-submit').click();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'app');
  await expect(page.getByTestId('inspector-user')).toHaveText(user);
  await expectSynced(page);
}

/** Waits until the header says online with nothing pending. */
export async function expectSynced(page: Page): Promise<void> {
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'online');
  await expect(page.getByTestId('pending-count')).toHaveAttribute('data-count', '0');
}

/** Waits until this page is controlled by the service worker (the shell is precached then). */
export async function waitForServiceWorker(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (navigator.serviceWorker.controller === null) {
      await new Promise<void>((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }));
    }
  });
}

/** Creates a project and waits for it to be selected. */
export async function addProject(page: Page, name: string): Promise<void> {
  await page.getByTestId('new-project-name').fill(name);
  await page.getByTestId('add-project').click();
  await expect(page.getByTestId('project-title')).toHaveText(name);
}

/** Adds a task to the selected project and waits for it in the list. */
export async function addTask(page: Page, title: string, priority = 'None'): Promise<void> {
  await page.getByTestId('new-task-title').fill(title);
  await page.getByTestId('new-task-priority').selectOption({ label: priority });
  await page.getByTestId('add-task').click();
  await expect(task(page, title)).toBeVisible();
}

/** The task row titled `title`. */
export function task(page: Page, title: string): Locator {
  return page.locator(`[data-testid="task"][data-title="${title.replace(/"/g, '\\"')}"]`);
}

/** Opens a task and renames it in the detail panel. */
export async function renameTask(page: Page, from: string, to: string): Promise<void> {
  await task(page, from).click();
  const title = page.getByTestId('detail-title');
  await expect(title).toHaveValue(from);
  await title.fill(to);
  await title.press('Enter');
  await expect(task(page, to)).toBeVisible();
}

/** The task titles listed, in order. */
export function taskTitles(page: Page): Promise<string[]> {
  return page.getByTestId('task-title').allTextContents();
}

/** Saves a full-page screenshot as e2e/output/demo/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = `${screenshotDir}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
