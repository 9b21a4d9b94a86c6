/**
 * An app's `fetch` may answer with a `Response`-like object that has no body stream (`body` null:
 * a wrapper, or a runtime without streams). A pull page is then read whole and decoded as one
 * piece: the rows arrive the same, small pages and a streamed page of many rows alike.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

/** The real response, with its body stream hidden. */
const withoutBodyStream: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  return Object.defineProperty(res, 'body', { value: null });
};

it('pulls every row through a fetch whose responses have no body stream', async () => {
  const writer = await world.device('bodyless');
  expect(await writer.engine.attach('bodyless')).toMatchObject({ outcome: 'started_empty' });
  const reader = await world.device('bodyless', { fetch: withoutBodyStream });
  await reader.engine.attach('bodyless');

  writer.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'one'), ('${uuid(2)}', 'two')`);
  await writer.engine.pushPending();
  expect((await reader.engine.pullToStable()).rowsApplied).toBe(2);

  // More than 1,000 rows: the server streams the page in pieces.
  const values = Array.from({ length: 2500 }, (_, i) => `('${uuid(100 + i)}', 'u${i}')`).join(',');
  writer.db.exec(`INSERT INTO users(id, name) VALUES ${values}`);
  await writer.engine.pushPending();
  expect((await reader.engine.pullToStable()).rowsApplied).toBe(2500);
  expect(localRows(reader.db, 'users')).toEqual(localRows(writer.db, 'users'));
});
