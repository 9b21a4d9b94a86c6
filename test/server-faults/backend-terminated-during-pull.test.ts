// The connection dies while a pull reads bundle rows: 503 database_unavailable, other devices'
// pulls keep working meanwhile, and the retried pull returns the bundle.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectDatabaseUnavailable, startFaultServer, tagRows } from '../harness/fault-scenario.ts';
import type { FaultServer } from '../harness/fault-scenario.ts';
import { terminateBackend } from '../harness/stage-gate.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

let f: FaultServer;
beforeAll(async () => {
  if (TEST_DB_KIND === 'postgres') f = await startFaultServer('fault_pull');
});
afterAll(() => f?.h.close());

it.skipIf(TEST_DB_KIND === 'pglite')('answers 503 and the retried pull returns the bundle', async () => {
  const dev = new RawSyncClient(f.h.baseUrl, f.h.tokenFor('eva'), 'eva-phone');
  await dev.connect(false);
  expect((await dev.push(1, tagRows('eva', 3))).status).toBe(200);
  const other = dev.withSource('eva-laptop');

  const paused = f.gate.arm(/FROM sync\.bundle_rows r/);
  const pull = other.pull('?after_bundle_seq=0');
  const at = await paused;
  // Another device's pull runs on another connection while this one is stuck.
  const meanwhile = await new RawSyncClient(f.h.baseUrl, f.h.tokenFor('fay'), 'fay-phone').pull('?after_bundle_seq=0');
  expect(meanwhile.status).not.toBe(500);
  await terminateBackend(at.pid);
  at.resume();
  expectDatabaseUnavailable(await pull);

  const retried = await other.pull('?after_bundle_seq=0');
  expect(retried.status).toBe(200);
  expect(retried.body.bundles).toHaveLength(1);
  expect(retried.body.bundles[0].rows).toHaveLength(3);
});
