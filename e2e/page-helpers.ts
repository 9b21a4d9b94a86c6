/**
 * Helpers for specs: open the test page in a tab and open a database in it.
 */
import type { BrowserContext, Page } from '@playwright/test';
import type { AppSchema } from '../src/index.ts';
import { baseURL } from './browser.ts';
import './harness-types.ts';

/** The schema most specs use. */
export const notesSchema: AppSchema = {
  version: 1,
  migrations: [
    `CREATE TABLE notes (id INTEGER PRIMARY KEY, tab TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT, UNIQUE (tab, seq));
                CREATE TABLE tags (id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL REFERENCES notes(id), tag TEXT NOT NULL);`,
  ],
};

/** Opens the test page in a new tab of `context`. */
export async function openTab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
  page.on('console', (m) => {
    if (process.env.E2E_CONSOLE) console.log(`[console] ${m.text()}`);
  });
  await page.goto(`${baseURL}/`);
  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'ready');
  return page;
}

/** Opens database `name` in `page`; returns the tab's role. */
export async function openDb(page: Page, name: string, schema: AppSchema = notesSchema, requestTimeoutMs?: number): Promise<string> {
  const { role } = await page.evaluate(
    ({ name, schema, requestTimeoutMs }) => window.harness.open({ name, schema, ...(requestTimeoutMs ? { requestTimeoutMs } : {}) }),
    { name, schema, requestTimeoutMs },
  );
  return role;
}

/** Reloads a tab and waits for the test page. */
export async function reloadTab(page: Page): Promise<void> {
  await page.reload();
  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'ready');
}

/** Count of notes rows in `name`, read through `page`. */
export function countNotes(page: Page, name: string): Promise<number> {
  return page.evaluate(async (n) => (await window.harness.db(n).query<{ c: number }>('SELECT count(*) AS c FROM notes'))[0]!.c, name);
}
