/**
 * The chunks our server sends are in the layout `snapshot-chunk-text.ts` reads straight from the
 * text (else every hydrate would quietly take the slower general path): a device hydrates rows of
 * every value family but JSON (text, timestamp, decimal, boolean, integer, float, BLOB, nulls) from
 * the real server, and each chunk text it received is taken by the text decoder, staging what
 * the general path stages.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseJsonExact } from '../../protocol/index.ts';
import type { SnapshotChunkResponse, SnapshotSessionResponse } from '../../protocol/index.ts';
import type { EngineContext } from '../../worker/engine/context.ts';
import { decodeSnapshotChunkText } from '../../worker/engine/snapshot-chunk-text.ts';
import { encodeSnapshotRows } from '../../worker/engine/snapshot-stage.ts';
import type { World } from './support/devices.ts';
import { startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('reads every chunk of our server from its text', async () => {
  const a = await world.device('mira');
  await a.engine.attach('mira');
  a.db.transaction(() => {
    a.db.exec(`INSERT INTO users(id, name, email) VALUES ('${uuid(1)}', 'Mira', NULL)`);
    a.db.exec(`INSERT INTO projects(id, owner_id, title, budget, archived) VALUES ('${uuid(2)}', '${uuid(1)}', 'p ✓', '12.50', 1)`);
    for (let t = 0; t < 120; t++) {
      a.db.exec({
        sql: 'INSERT INTO tasks(id, project_id, title, done, priority, estimate_hours, attachment, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        bind: [
          uuid(1000 + t),
          uuid(2),
          `task ${t} ünïcödé`,
          t % 2,
          t % 3 === 0 ? null : BigInt(t) * 10_000_000_000n,
          t % 4 === 0 ? null : t + 0.25,
          t % 5 === 0 ? null : new Uint8Array([t, 0, 255]),
          t % 6 === 0 ? null : '2026-12-06T10:00:00.000Z',
        ],
      });
    }
  });
  expect(await a.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 122 });

  let session: SnapshotSessionResponse | null = null;
  const chunks: { after: number; text: string }[] = [];
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(String(input instanceof Request ? input.url : input));
    if (!url.pathname.includes('/snapshot-sessions') || !res.ok) return res;
    const text = await res.clone().text();
    if ((init?.method ?? 'GET') === 'POST') session = JSON.parse(text) as SnapshotSessionResponse;
    else if ((init?.method ?? 'GET') === 'GET') chunks.push({ after: Number(url.searchParams.get('after_row_ordinal')), text });
    return res;
  };
  const b = await world.device('mira', { fetch: recording, snapshotChunkRows: 50 });
  expect(await b.engine.attach('mira')).toMatchObject({ outcome: 'used_remote_state', snapshotRows: 122 });
  expect(chunks.length).toBeGreaterThanOrEqual(3);
  const ctx = (b.engine as unknown as { ctx: EngineContext }).ctx;
  for (const { after, text } of chunks) {
    const fast = decodeSnapshotChunkText(ctx, text, session!, after);
    expect(fast, text).not.toBeNull();
    const general = encodeSnapshotRows(ctx, parseJsonExact<SnapshotChunkResponse>(text), after);
    expect(fast!.staged.map((g) => [g.table, g.count, g.rows, g.states, g.highestVersion])).toEqual(
      general.map((g) => [g.table, g.count, g.rows, g.states, g.highestVersion]),
    );
  }
  expect(Number(b.db.selectValue('SELECT COUNT(*) FROM tasks'))).toBe(120);
  expect(b.db.selectValue('SELECT group_concat(hex(attachment)) FROM tasks')).toBe(
    a.db.selectValue('SELECT group_concat(hex(attachment)) FROM tasks'),
  );
});
