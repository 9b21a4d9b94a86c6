/**
 * The demo's service worker: precaches the built app shell (HTML, JS, CSS, the database worker
 * and sqlite3.wasm) at install, so a reload without network still starts the app, which then
 * opens its local SQLite database from OPFS. Only same-origin GETs are handled; calls to the sync
 * server pass straight to the network (their failure is how the app learns it is offline).
 *
 * Navigations go to the network first (a fresh build wins when online) and fall back to the
 * cached shell; every other file is content-hashed, so it is served from the cache first.
 */
/** Replaced at build time by build/precache-plugin.ts with `{ version, files }`. */
// A module (registered with type: 'module'), so these names stay out of the project's global scope.
export {};

declare const __PRECACHE_MANIFEST__: { readonly version: string; readonly files: readonly string[] };

const worker = self as unknown as ServiceWorkerGlobalScope;
const manifest = __PRECACHE_MANIFEST__;
const CACHE_PREFIX = 'oversqlite-demo-shell-';
const cacheName = `${CACHE_PREFIX}${manifest.version}`;
const shellUrl = new URL('./', worker.registration.scope).href;

worker.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(cacheName);
      await cache.addAll(manifest.files.map((file) => new URL(file, worker.registration.scope).href));
      await worker.skipWaiting();
    })(),
  );
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && name !== cacheName) await caches.delete(name);
      }
      // Take over the page that registered us, so its next reload is already served offline-capable.
      await worker.clients.claim();
    })(),
  );
});

worker.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== worker.location.origin) return;
  event.respondWith(request.mode === 'navigate' ? networkFirstShell(request) : cacheFirst(request));
});

async function networkFirstShell(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (error) {
    const cached = await caches.match(shellUrl, { cacheName, ignoreVary: true });
    if (cached !== undefined) return cached;
    throw error;
  }
}

async function cacheFirst(request: Request): Promise<Response> {
  // ignoreVary: the preview server answers with `Vary: Origin`, and module scripts are fetched in
  // CORS mode (with an Origin header the install-time requests did not carry).
  const cached = await caches.match(request, { cacheName, ignoreVary: true });
  return cached ?? fetch(request);
}
