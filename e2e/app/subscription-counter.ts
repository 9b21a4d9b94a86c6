/**
 * Counts a database's open live queries and sync-status subscriptions, for the binding specs that
 * check cleanup. It wraps the real `db.live` and `db.sync.status.subscribe` of one database
 * object: every call passes through unchanged; only opens and closes are counted.
 */
import type { Database } from '../../src/index.ts';

/** The counts of one tracked database. */
export interface SubscriptionCounts {
  /** Live queries open now. */
  liveOpen: number;
  /** Live queries opened since tracking began. */
  liveOpened: number;
  /** Sync-status subscriptions open now. */
  statusSubscriptions: number;
}

/** Starts counting on `db`; returns the live counts object. */
export function trackSubscriptions(db: Database): SubscriptionCounts {
  const counts: SubscriptionCounts = { liveOpen: 0, liveOpened: 0, statusSubscriptions: 0 };
  const live = db.live.bind(db);
  db.live = ((sql, params, onRows, onError) => {
    const query = live(sql, params, onRows, onError);
    counts.liveOpen++;
    counts.liveOpened++;
    let closed = false;
    return {
      get tables() {
        return query.tables;
      },
      close() {
        if (!closed) counts.liveOpen--;
        closed = true;
        query.close();
      },
    };
  }) as Database['live'];
  const status = db.sync.status;
  const subscribe = status.subscribe.bind(status);
  status.subscribe = (listener) => {
    const unsubscribe = subscribe(listener);
    counts.statusSubscriptions++;
    let done = false;
    return () => {
      if (!done) counts.statusSubscriptions--;
      done = true;
      unsubscribe();
    };
  };
  return counts;
}
