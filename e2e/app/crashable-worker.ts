/**
 * The real database worker entry, plus one way for a spec to make it die on its own while its
 * tab lives: on the message `{ oversqliteTestCrash: true }` it throws an uncaught error and
 * closes itself, as a worker whose runtime hit a fatal error would end.
 */
import '../../worker/worker-entry.ts';

self.addEventListener('message', (event: MessageEvent<unknown>) => {
  if ((event.data as { oversqliteTestCrash?: unknown } | null)?.oversqliteTestCrash !== true) return;
  setTimeout(() => {
    self.close();
    throw new Error('oversqlite e2e: the worker crashes on purpose');
  });
});
