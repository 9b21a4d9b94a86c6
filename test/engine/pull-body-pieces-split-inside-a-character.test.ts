/**
 * A pull page's body is decoded piece by piece as it arrives: a network piece that ends inside a
 * character's UTF-8 bytes (an accent, an emoji) is joined with the next piece before decoding, so
 * the stored text is exact whichever byte the pieces are cut at.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { rows } from './support/sqlite.ts';

const TEXT = 'é 😀 ü — ok';

/** Pulls one row whose body is `text`, the page's bytes cut into pieces at `cutsOf(bytes)`; returns the stored body. */
async function pullCut(text: string, cutsOf: (bytes: Uint8Array) => number[]): Promise<unknown> {
  const page = JSON.stringify({
    stable_bundle_seq: 1,
    bundles: [
      {
        bundle_seq: 1,
        source_id: 'other',
        source_bundle_id: 1,
        row_count: 1,
        bundle_hash: 'h',
        rows: [{ schema: 'main', table: 'notes', key: { id: 'n1' }, op: 'INSERT', row_version: 1, payload: { id: 'n1', body: text } }],
      },
    ],
    has_more: false,
  });
  const bytes = new TextEncoder().encode(page);
  let inner: typeof fetch = () => Promise.reject(new Error('not ready'));
  const s = await openEngine('CREATE TABLE notes (id TEXT PRIMARY KEY NOT NULL, body TEXT)', [{ table: 'notes', syncKey: 'id' }], {
    fetch: (input, init) => {
      if (!new URL(String(input)).pathname.endsWith('/sync/pull')) return inner(input, init);
      const cuts = [...cutsOf(bytes), bytes.length];
      let from = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const to = cuts.shift();
          if (to === undefined) return controller.close();
          controller.enqueue(bytes.slice(from, to));
          from = to;
        },
      });
      return Promise.resolve(new Response(body, { status: 200, headers: { 'Content-Type': 'application/json' } }));
    },
  });
  inner = s.server.fetch;
  await attachStartedEmpty(s);
  await s.engine.pullToStable();
  const stored = rows(s.db, 'SELECT body FROM notes')[0]?.body;
  await s.engine.close();
  return stored;
}

it('stores text exactly when the body is cut inside a multi-byte character', async () => {
  // One piece per byte around the emoji and inside "é": every cut falls inside a character.
  const stored = await pullCut(TEXT, (bytes) => {
    const at = bytes.indexOf(0xf0); // the emoji's first byte
    return [bytes.indexOf(0xc3) + 1, at + 1, at + 2, at + 3];
  });
  expect(stored).toBe(TEXT);
});

it('keeps a U+FEFF that starts a piece after the first (only a leading one is a BOM)', async () => {
  const text = 'a\ufeffb\ufeff';
  // Cut before each U+FEFF (bytes EF BB BF): the pieces before them end in ASCII.
  const stored = await pullCut(text, (bytes) => bytes.reduce<number[]>((at, b, i) => (b === 0xef ? [...at, i] : at), []));
  expect(stored).toBe(text);
});
