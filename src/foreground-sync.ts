/**
 * Sync when the app comes back to the foreground. A tab in the background may have missed the
 * server's wake-ups (browsers throttle or freeze hidden pages, and a laptop lid closes the watch
 * stream), so when the page becomes visible again (`visibilitychange` → `visible`) or the window
 * gets focus, the leader tab asks its engine for a sync. Both events usually fire together, and a
 * user may flip between tabs quickly: requests are throttled to one per {@link FOREGROUND_SYNC_THROTTLE_MS}.
 * Only the leader tab asks (followers forward nothing: the leader's engine schedules its own
 * runs), and only while a user is attached.
 */

/** At most one foreground sync request per this many milliseconds. */
export const FOREGROUND_SYNC_THROTTLE_MS = 5_000;

/** What {@link watchForeground} listens to and calls. */
interface ForegroundSyncOptions {
  /** Receives `focus` (the window, `globalThis` in a page). */
  readonly window: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** Receives `visibilitychange` and says whether the page is visible (the page's `document`). */
  readonly document?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> & { readonly visibilityState: string };
  /** Whether a user is attached (the sync status says so). */
  isAttached(): boolean;
  /** Asks the leader's engine for a sync; returns false when this tab does not lead (nothing was sent). */
  requestSync(): boolean;
  /** Clock (tests). */
  readonly now?: () => number;
  readonly throttleMs?: number;
}

/** Starts listening; returns the function that stops. */
export function watchForeground(options: ForegroundSyncOptions): () => void {
  const now = options.now ?? (() => Date.now());
  const throttleMs = options.throttleMs ?? FOREGROUND_SYNC_THROTTLE_MS;
  let lastSent = -Infinity;
  const wake = (): void => {
    if (!options.isAttached()) return;
    const at = now();
    if (at - lastSent < throttleMs) return;
    if (options.requestSync()) lastSent = at;
  };
  const onVisibility = (): void => {
    if (options.document?.visibilityState === 'visible') wake();
  };
  options.window.addEventListener('focus', wake);
  options.document?.addEventListener('visibilitychange', onVisibility);
  return () => {
    options.window.removeEventListener('focus', wake);
    options.document?.removeEventListener('visibilitychange', onVisibility);
  };
}
