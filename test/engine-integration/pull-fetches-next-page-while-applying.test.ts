/**
 * A pull of several pages requests the next page as soon as the current one is validated, so the
 * server builds it while the device applies the current one. Pages still apply in order, each
 * bundle atomically with its checkpoint; a prefetched page that fails fails the pull after the
 * pages before it are applied, and the next pull resumes from there.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncEngine } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { localRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  // Pages of one 2-row bundle each.
  world = await startWorld({ limits: { maxRowsPerPull: 3 } });
});
afterAll(() => world?.close());

/** A pulling device whose pull requests are noted with its checkpoint when each is sent. */
async function watchedDevice(user: string, refuse: (after: number) => boolean = () => false) {
  const sent: { after: number; checkpoint: number }[] = [];
  let engine: SyncEngine | undefined;
  const device = await world.device(user, {
    fetch: async (input, init) => {
      const url = new URL(String(input));
      if (url.pathname.endsWith('/sync/pull')) {
        const after = Number(url.searchParams.get('after_bundle_seq'));
        sent.push({ after, checkpoint: engine!.status.checkpoint });
        if (refuse(after)) {
          return new Response(JSON.stringify({ error: 'invalid_request', message: 'refused by the test' }), {
            status: 400,
            headers: { 'Content-Type': 'application/json' },
          });
        }
      }
      return fetch(input, init);
    },
  });
  engine = device.engine;
  return { ...device, sent };
}

/** Device `writer` pushes `bundles` bundles of 2 users each. */
async function pushBundles(writer: Awaited<ReturnType<typeof world.device>>, base: number, bundles: number): Promise<void> {
  for (let b = 0; b < bundles; b++) {
    writer.db.exec(
      `INSERT INTO users(id, name) VALUES ('${uuid(base + 2 * b)}', 'u${2 * b}'), ('${uuid(base + 2 * b + 1)}', 'u${2 * b + 1}')`,
    );
    await writer.engine.pushPending();
  }
}

it('requests each next page before the current one is applied, and applies every page in order', async () => {
  const writer = await world.device('pia');
  expect(await writer.engine.attach('pia')).toMatchObject({ outcome: 'started_empty' });
  const reader = await watchedDevice('pia');
  await reader.engine.attach('pia');
  reader.sent.length = 0;
  await pushBundles(writer, 100, 4);

  const pulled = await reader.engine.pullToStable();
  expect(pulled.rowsApplied).toBe(8);
  expect(localRows(reader.db, 'users')).toHaveLength(8);
  expect(reader.sent.map((s) => s.after)).toEqual([0, 1, 2, 3].map((i) => i + reader.sent[0]!.after));
  // Every page after the first was asked for while the page before it was still unapplied.
  for (const s of reader.sent.slice(1)) expect(s.checkpoint).toBeLessThan(s.after);
  expect(reader.engine.status.checkpoint).toBe(reader.sent[0]!.after + 4);
});

it('a prefetched page that fails fails the pull after the pages before it; the next pull resumes', async () => {
  const writer = await world.device('quin');
  expect(await writer.engine.attach('quin')).toMatchObject({ outcome: 'started_empty' });
  let refusing = true;
  let start = 0;
  const reader = await watchedDevice('quin', (after) => refusing && after === start + 2);
  await reader.engine.attach('quin');
  start = reader.engine.status.checkpoint;
  await pushBundles(writer, 200, 4);

  await expect(reader.engine.pullToStable()).rejects.toMatchObject({ code: 'invalid_request' });
  // Pages 1 and 2 applied (page 3 was requested while page 2 applied), nothing of later pages.
  expect(reader.engine.status.checkpoint).toBe(start + 2);
  expect(localRows(reader.db, 'users')).toHaveLength(4);

  refusing = false;
  const pulled = await reader.engine.pullToStable();
  expect(pulled.rowsApplied).toBe(4);
  expect(localRows(reader.db, 'users')).toHaveLength(8);
  expect(reader.engine.status.checkpoint).toBe(start + 4);
});
