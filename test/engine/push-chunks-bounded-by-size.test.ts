/**
 * Push chunks stop at the configured row count or at ~4 MiB of row JSON, whichever comes first,
 * so a bundle of large rows travels in requests well below a server's body limit, in order, and
 * commits as one bundle.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';

it('splits large rows into chunks of at most ~4 MiB and small rows by count', async () => {
  const s = await openEngine('CREATE TABLE docs (id TEXT PRIMARY KEY NOT NULL, body TEXT)', [{ table: 'docs', syncKey: 'id' }], {
    pushChunkRows: 1000,
  });
  await attachStartedEmpty(s);
  const server = new PushResponder();
  server.install(s.server);
  const big = 'x'.repeat(1024 * 1024);
  const ins = s.db.prepare('INSERT INTO docs VALUES (?, ?)');
  for (let i = 0; i < 10; i++) ins.bind([`big-${i}`, big]).stepReset();
  for (let i = 0; i < 1500; i++) ins.bind([`small-${String(i).padStart(4, '0')}`, 's']).stepReset();
  ins.finalize();
  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 1510 });
  const chunks = s.server.requestsTo('POST', /\/chunks$/).map((r) => ({
    size: r.rawBody!.length,
    rows: (r.body as { rows: unknown[] }).rows.length,
    start: (r.body as { start_row_ordinal: number }).start_row_ordinal,
  }));
  for (const c of chunks) expect(c.size).toBeLessThan(5.5 * 1024 * 1024);
  expect(chunks.map((c) => c.rows)).toEqual([4, 4, 2 + 998, 502]);
  expect(chunks.map((c) => c.start)).toEqual([0, 4, 8, 1008]);
  expect(server.committed).toHaveLength(1);
  expect(server.committed[0]!.rows).toHaveLength(1510);
});
