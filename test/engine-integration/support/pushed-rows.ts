/**
 * A `fetch` for a device that passes every request through to the real server and keeps the rows
 * each push request carried (one-request push or chunks), so a test can assert what went up.
 */
import type { PushRow } from '../../../protocol/index.ts';

export interface PushRecorder {
  fetch: typeof fetch;
  /** Rows of every push request since the last `take()`, in request order. */
  take(): PushRow[];
}

export function recordPushedRows(): PushRecorder {
  let rows: PushRow[] = [];
  return {
    fetch: (input, init) => {
      if (new URL(String(input)).pathname.startsWith('/sync/push-sessions') && typeof init?.body === 'string') {
        const body = JSON.parse(init.body) as { rows?: PushRow[] };
        if (Array.isArray(body.rows)) rows.push(...body.rows);
      }
      return fetch(input, init);
    },
    take: () => {
      const taken = rows;
      rows = [];
      return taken;
    },
  };
}
