/**
 * The facade's foreground trigger (`src/foreground-sync.ts`): the page becoming visible again or
 * the window getting focus asks the leader's engine for a sync, at most once per throttle window,
 * only while a user is attached; hidden-page events and follower tabs (which forward nothing)
 * do not count against the throttle. The real browser path is `e2e/sync-on-visibility-change.spec.ts`.
 */
import { describe, expect, it } from 'vitest';
import { FOREGROUND_SYNC_THROTTLE_MS, watchForeground } from '../../src/foreground-sync.ts';

function page() {
  const window = new EventTarget();
  const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  const show = (): void => {
    document.visibilityState = 'visible';
    document.dispatchEvent(new Event('visibilitychange'));
  };
  const hide = (): void => {
    document.visibilityState = 'hidden';
    document.dispatchEvent(new Event('visibilitychange'));
  };
  const focus = (): void => {
    window.dispatchEvent(new Event('focus'));
  };
  return { window, document, show, hide, focus };
}

describe('foreground sync', () => {
  it('visible and focus trigger a sync, throttled to one per window; hidden does not', () => {
    const p = page();
    let now = 0;
    const requests: number[] = [];
    const stop = watchForeground({
      window: p.window,
      document: p.document,
      isAttached: () => true,
      requestSync: () => (requests.push(now), true),
      now: () => now,
    });
    p.hide();
    expect(requests).toEqual([]);
    p.show();
    p.focus(); // usually arrives together with visibilitychange
    expect(requests).toEqual([0]);
    now = FOREGROUND_SYNC_THROTTLE_MS - 1;
    p.hide();
    p.show();
    expect(requests).toEqual([0]);
    now = FOREGROUND_SYNC_THROTTLE_MS;
    p.focus();
    expect(requests).toEqual([0, FOREGROUND_SYNC_THROTTLE_MS]);
    stop();
    now += 60_000;
    p.show();
    p.focus();
    expect(requests).toHaveLength(2);
  });

  it('asks nothing while no user is attached', () => {
    const p = page();
    let attached = false;
    let requests = 0;
    watchForeground({
      window: p.window,
      document: p.document,
      isAttached: () => attached,
      requestSync: () => (requests++, true),
      now: () => 0,
    });
    p.show();
    p.focus();
    expect(requests).toBe(0);
    attached = true;
    p.show();
    expect(requests).toBe(1);
  });

  it('a follower tab (nothing sent) does not use up the throttle for when it becomes leader', () => {
    const p = page();
    let leader = false;
    let sent = 0;
    watchForeground({
      window: p.window,
      document: p.document,
      isAttached: () => true,
      now: () => 0,
      requestSync: () => {
        if (!leader) return false;
        sent++;
        return true;
      },
    });
    p.show();
    expect(sent).toBe(0);
    leader = true; // the old leader closed; this tab took over
    p.focus();
    expect(sent).toBe(1);
  });
});
