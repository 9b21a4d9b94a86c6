/**
 * Chromium launch settings shared by the config and the specs that launch their own browser
 * (persistent profiles). Playwright cannot download browsers here; Debian's Chromium is used.
 */

/** Path of the Chromium binary (override with CHROMIUM_PATH). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep Chromium quiet and fast on a shared CI machine. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The test page's base URL. */
export const baseURL = `http://127.0.0.1:${process.env.E2E_PORT ?? 5199}`;

/** Port of the e2e sync server (the page reaches it same-origin through the Vite proxy at /sync). */
export const syncPort = Number(process.env.E2E_SYNC_PORT ?? 5198);

/** Where the sync server writes its database connection string for the specs. */
export const syncInfoFile = process.env.E2E_SYNC_INFO ?? `/tmp/oversqlite-e2e-sync-${syncPort}.json`;
