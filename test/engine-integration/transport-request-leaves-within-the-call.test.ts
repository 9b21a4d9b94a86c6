/**
 * With a token in memory, the transport hands a request to fetch within the call that makes it:
 * no await in between, so what the caller does next (the push hashes its rows for the answer)
 * overlaps the request instead of delaying it. The first request, which still has to ask the
 * app's getToken(), goes out after that answer. Real server, real HTTP.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuthTokenSource } from '../../worker/engine/auth-token.ts';
import { systemClock } from '../../worker/engine/system-clock.ts';
import { SyncTransport } from '../../worker/engine/transport.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'transport_within_call' });
});
afterAll(() => h?.close());

it('sends at once when the token is in memory, after getToken() otherwise', async () => {
  let sent = 0;
  const t = new SyncTransport(
    h.baseUrl,
    () => 'device-1',
    new AuthTokenSource(async () => h.tokenFor('alice'), systemClock),
    (input, init) => {
      sent++;
      return fetch(input, init);
    },
    systemClock,
  );
  const first = t.json<{ protocol_version?: unknown }>({ method: 'GET', path: '/sync/capabilities' });
  expect(sent).toBe(0);
  expect(await first).toHaveProperty('protocol_version');

  const second = t.json<{ protocol_version?: unknown }>({ method: 'GET', path: '/sync/capabilities' });
  expect(sent).toBe(2);
  expect(await second).toHaveProperty('protocol_version');
});
