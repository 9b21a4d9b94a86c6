/**
 * Helpers for the binding specs: open a binding's test page (e2e/app/<binding>/) in a tab. The page
 * also carries the base `window.harness` (open databases, sync).
 */
import type { BrowserContext, Page } from '@playwright/test';
import type { ReactHarness } from './app/react/main.ts';
import type { VueHarness } from './app/vue/main.ts';
import type { QueryBuilderHarness } from './app/query-builders/main.ts';
import { baseURL } from './browser.ts';
import './harness-types.ts';

declare global {
  interface Window {
    /** The React bindings page's API (see e2e/app/react/main.ts). */
    reactHarness: ReactHarness;
    /** The Vue bindings page's API (see e2e/app/vue/main.ts). */
    vueHarness: VueHarness;
    /** The query-builder page's API (see e2e/app/query-builders/main.ts). */
    qb: QueryBuilderHarness;
  }
}

/** Opens `/<binding>/` in a new tab of `context` and waits until it is ready. */
export async function openBindingTab(context: BrowserContext, binding: 'react' | 'vue' | 'query-builders'): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
  page.on('console', (m) => {
    if (process.env.E2E_CONSOLE) console.log(`[console] ${m.text()}`);
  });
  await page.goto(`${baseURL}/${binding}/`);
  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'ready');
  return page;
}
