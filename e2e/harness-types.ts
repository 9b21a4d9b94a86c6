/**
 * Typing of the test page's `window.harness` for the specs.
 */
import type { Harness } from './app/main.ts';

declare global {
  interface Window {
    /** The test page's API (see e2e/app/main.ts). */
    harness: Harness;
  }
}

export type { Harness };
