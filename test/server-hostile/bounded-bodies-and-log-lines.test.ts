// The reference server bounds what it reads and what it says back: /dummy-signin refuses a body
// over 16 KiB without buffering it (a 200 MB body used to take RSS from 205 to 705 MiB), an error
// message quoting a 2 MB column name is cut to ~1 KiB, a 600-character sync key is refused before
// staging, and log lines print ids escaped (a user id with spaces or control characters cannot
// forge or split a line).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { logField } from '../../server/reference/request-log.ts';
import { startReferenceOnPostgres } from '../server-edges/fixtures/reference-in-process.ts';
import type { InProcessReference } from '../server-edges/fixtures/reference-in-process.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let ref: InProcessReference;
beforeAll(async () => {
  ref = await startReferenceOnPostgres('bounded_bodies');
});
afterAll(() => ref?.close());

it('/dummy-signin refuses a 64 MB streamed body after reading at most 16 KiB', async () => {
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 64) return controller.close();
      sent++;
      controller.enqueue(chunk);
    },
  });
  const res = await fetch(`${ref.server.url}/dummy-signin`, { method: 'POST', body, duplex: 'half' } as RequestInit);
  expect(res.status).toBe(413);
  expect((await res.json()).error).toBe('invalid_request');
  expect(sent).toBeLessThan(64);
});

it('/dummy-signin refuses a user id that could not be one (control character, over 256 characters)', async () => {
  for (const user of ['bob\nGET /x 200', 'u'.repeat(257)]) {
    const res = await fetch(`${ref.server.url}/dummy-signin`, { method: 'POST', body: JSON.stringify({ user, password: 'x' }) });
    expect(res.status).toBe(400);
  }
});

it('an error quoting a 2 MB column name answers at most ~1 KiB of message', async () => {
  const dev = new RawSyncClient(ref.server.url, await ref.tokenFor('echo'), 'echo-phone');
  await dev.connect(false);
  const pushId = (await dev.createPush(1, 1)).body.push_id;
  const name = 'X'.repeat(2 * 1024 * 1024);
  const res = await dev.request(
    'POST',
    `/sync/push-sessions/${pushId}/chunks`,
    undefined,
    `{"start_row_ordinal":0,"rows":[{"schema":"business","table":"tasks","key":{"id":"6f1c1e8e-0000-4000-8000-000000000001"},"op":"INSERT","base_row_version":0,"payload":{"${name}":1}}]}`,
  );
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('push_chunk_invalid');
  expect(JSON.stringify(res.body).length).toBeLessThan(1200);
});

it('a 600-character text key is refused with push_chunk_invalid before staging', async () => {
  const dev = new RawSyncClient(ref.server.url, await ref.tokenFor('longkey'), 'lk-phone');
  await dev.connect(false);
  const pushId = (await dev.createPush(1, 1)).body.push_id;
  const key = 'k'.repeat(600);
  const res = await dev.chunk(pushId, 0, [
    { schema: 'business', table: 'tags', key: { name: key }, op: 'INSERT', base_row_version: 0, payload: { name: key } },
  ]);
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('push_chunk_invalid');
});

it('log lines print ids escaped: spaces, quotes and control characters cannot split or forge a line', async () => {
  const dev = new RawSyncClient(ref.server.url, await ref.tokenFor(' bob '), 'log-phone');
  expect((await dev.connect(false)).status).toBe(200);
  const line = ref.logLines.find((l) => l.startsWith('POST /sync/connect 200') && l.includes('bob'));
  expect(line).toMatch(/ user=" bob "$/);
  expect(logField('alice')).toBe('alice');
  expect(logField('a\nGET /x 200 1ms user=admin')).toBe('"a\\nGET /x 200 1ms user=admin"');
  expect(logField('a\u2028b\u0085c')).toBe('"a\\u2028b\\u0085c"');
  expect(logField('x'.repeat(5000)).length).toBeLessThan(210);
});
