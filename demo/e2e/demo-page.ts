/**
 * Helpers the demo specs share: open the app in a fresh browser context (a separate "device"),
 * sign in, wait for the sync state the UI shows, and save screenshots under e2e/output/demo/.
 */
import { expect } from '@playwright/test';
import type { Browser, BrowserContext, Locator, Page, Route } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where screenshots go (gitignored). */
export const screenshotDir = fileURLToPath(new URL('../../e2e/output/demo/', import.meta.url));

/** A user name no other spec (or earlier run on a persistent server) uses. */
export function uniqueUser(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/** One device: a browser context with its own OPFS, service worker and storage. */
export interface Device {
  readonly context: BrowserContext;
  readonly page: Page;
}

/** Opens the app on a new device (context) and waits for the sign-in screen. */
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
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-state', /signin|app/);
  return { context, page };
}

/**
 * Cuts the device's network (or restores it) as a real lost connection would: `context.setOffline`
 * (the page's `online`/`offline` events and `navigator.onLine` follow it), and every request
 * leaving the app's origin aborted. Offline emulation alone is not airtight (it does not cover
 * requests a service worker makes, Playwright #2311), and once in CI a device's offline edits
 * reached the other device while it was emulated offline; the route makes the cut certain.
 * App files still come from the service worker's cache, which the route does not see.
 */
export async function setNetwork(device: Device, state: 'offline' | 'online'): Promise<void> {
  const cut = cuts.get(device.context);
  if (state === 'offline' && cut === undefined) {
    const appOrigin = new URL(device.page.url()).origin;
    const leavesApp = (url: URL): boolean => url.origin !== appOrigin;
    cuts.set(device.context, leavesApp);
    await device.context.route(leavesApp, abortAsOffline);
  }
  await device.context.setOffline(state === 'offline');
  if (state === 'online' && cut !== undefined) {
    cuts.delete(device.context);
    await device.context.unroute(cut, abortAsOffline);
  }
}

/** The route each offline device has in place (unroute needs the same matcher). */
const cuts = new WeakMap<BrowserContext, (url: URL) => boolean>();

function abortAsOffline(route: Route): Promise<void> {
  // The engine syncs only while the page says online, so its requests showing up here is news
  // (the reloaded page's token request is expected); say so in the log without failing.
  const { pathname } = new URL(route.request().url());
  if (pathname !== '/dummy-signin') console.log(`[offline device] aborted ${route.request().method()} ${pathname}`);
  return route.abort('internetdisconnected');
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
