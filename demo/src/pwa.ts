/**
 * Registers the service worker that makes the app start offline. Only in a build (`vite build`):
 * the dev server has no precache list, and a worker left over from a build would serve stale
 * files during development.
 */

/** Registers `sw.js` (built next to index.html); resolves when it controls this page. */
export async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  if (import.meta.env.DEV) {
    for (const registration of await navigator.serviceWorker.getRegistrations()) await registration.unregister();
    return;
  }
  await navigator.serviceWorker.register(new URL('./sw.js', location.href), { type: 'module', scope: './' });
}
