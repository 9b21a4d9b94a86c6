/**
 * A snapshot chunk in our server's layout is decoded straight from its text
 * (`snapshot-chunk-text.ts`); every other text goes the general way (`JSON.parse` +
 * `validateSnapshotChunk` + `encodeSnapshotRows`). The text decoder must never accept what the
 * general path refuses, and what it accepts must stage the same rows: per table in the same order,
 * the same staged `rows` and `states` text and the same highest version. Checked on seeded chunks
 * of every value family in the exact layout (each must be taken by the text decoder) and on
 * thousands of mutations of them (a character changed, dropped or doubled; a value replaced by a
 * bad one), and on hostile variants of one chunk.
 */
import { expect, it } from 'vitest';
import { parseJsonExact } from '../../protocol/index.ts';
import type { SnapshotChunkResponse, SnapshotSessionResponse } from '../../protocol/index.ts';
import type { SyncEngine, SyncedTable } from '../../worker/engine/index.ts';
import type { EngineContext } from '../../worker/engine/context.ts';
import { dialectEvidence, serverDialect } from '../../worker/engine/dialect.ts';
import { validateSnapshotChunk } from '../../worker/engine/snapshot.ts';
import { encodeSnapshotRows } from '../../worker/engine/snapshot-stage.ts';
import { decodeSnapshotChunkText } from '../../worker/engine/snapshot-chunk-text.ts';
import type { DecodedSnapshotChunk } from '../../worker/engine/snapshot-chunk-text.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { seededRandom } from '../harness/seeded-random.ts';
import { mutateWireText } from './support/wire-text-mutation.ts';

const SCHEMA = `
CREATE TABLE parents (id BLOB PRIMARY KEY NOT NULL, tag TEXT, n INTEGER, f REAL, d TEXT, at TEXT);
CREATE TABLE kids (id TEXT PRIMARY KEY NOT NULL, parent_id BLOB REFERENCES parents(id), ok INTEGER, bl BLOB, j TEXT, u TEXT);`;
const TABLES: SyncedTable[] = [
  { table: 'parents', syncKey: 'id', columns: { d: 'decimal', at: 'timestamp' } },
  { table: 'kids', syncKey: 'id', columns: { ok: 'boolean', j: 'json' } },
];
const SNAPSHOT_ID = '5f0c0000-0000-4000-8000-000000000001';

const uuid = (n: number): string => `0b0e0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function session(seq: number, rowCount: number): SnapshotSessionResponse {
  return { snapshot_id: SNAPSHOT_ID, snapshot_bundle_seq: seq, row_count: rowCount, byte_count: 0, expires_at: '2026-12-06T12:00:00Z' };
}

/**
 * A chunk as our server writes it: JSON.stringify's member order, payload members in table order,
 * strings and nulls as values (booleans as JSON booleans).
 */
function chunk(rnd: () => number, after: number, seq: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const rows = [];
  for (let r = 0, m = Math.floor(rnd() * 6); r < m; r++) {
    const parent = rnd() < 0.5;
    const id = parent ? uuid(Math.floor(rnd() * 20)) : `k${Math.floor(rnd() * 20)} é`;
    const payload = parent
      ? {
          id,
          tag: pick([null, '', 'tag', 'ünïcödé ✓']),
          n: pick([null, '0', '-9223372036854775808', '42', '9007199254740993']),
          f: pick([null, '1.5', '-2', '1e+21', '0.1']),
          d: pick([null, '12.50', '-0.001', '7']),
          at: pick([null, '2026-12-06T10:00:00Z']),
        }
      : {
          id,
          parent_id: pick([null, uuid(3)]),
          ok: pick([null, true, false]),
          bl: pick([null, '', 'AAECAw==', '/w==']),
          j: pick([null, 'str']),
          u: pick([null, 'free text']),
        };
    rows.push({ schema: 'main', table: parent ? 'parents' : 'kids', key: { id }, row_version: 1 + Math.floor(rnd() * seq), payload });
  }
  const hasMore = rows.length > 0 && rnd() < 0.5;
  return JSON.stringify({
    snapshot_id: SNAPSHOT_ID,
    snapshot_bundle_seq: seq,
    rows,
    next_row_ordinal: after + rows.length,
    byte_count: rows.reduce((n, r) => n + JSON.stringify(r).length, 0),
    has_more: hasMore,
  });
}

function ctxOf(engine: SyncEngine): EngineContext {
  return (engine as unknown as { ctx: EngineContext }).ctx;
}

/** What the general path makes of `text`: the decoded chunk, or the error's code. */
function general(ctx: EngineContext, s: SnapshotSessionResponse, text: string, after: number): unknown {
  try {
    const parsed = parseJsonExact<SnapshotChunkResponse>(text);
    validateSnapshotChunk(s, parsed, after);
    return decoded({ nextRowOrdinal: parsed.next_row_ordinal, hasMore: parsed.has_more, staged: encodeSnapshotRows(ctx, parsed, after) });
  } catch (e) {
    return { error: (e as { code?: string }).code ?? 'json' };
  }
}

/** What a decoded chunk stages, for comparison. */
function decoded(c: DecodedSnapshotChunk): unknown {
  return {
    next: c.nextRowOrdinal,
    hasMore: c.hasMore,
    staged: c.staged.map((g) => ({
      table: g.table,
      model: g.model.table,
      count: g.count,
      rows: g.rows,
      states: g.states,
      highest: g.highestVersion,
    })),
  };
}

it('takes only what the general path accepts, and stages it alike', async () => {
  const e = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(e);
  const ctx = ctxOf(e.engine);
  const seed = 20261206;
  console.log(`seed ${seed}`);
  const rnd = seededRandom(seed);
  let taken = 0;
  let mutatedTaken = 0;
  for (let n = 0; n < 300; n++) {
    const after = Math.floor(rnd() * 5);
    const seq = 1 + Math.floor(rnd() * 9);
    const s = session(seq, 1000);
    const text = chunk(rnd, after, seq);
    for (let m = 0; m < 12; m++) {
      const t = m === 0 ? text : mutateWireText(rnd, text);
      const fast = decodeSnapshotChunkText(ctx, t, s, after);
      if (m === 0) expect(fast, t).not.toBeNull();
      if (fast === null) continue;
      if (m === 0) taken++;
      else mutatedTaken++;
      expect(decoded(fast), t).toEqual(general(ctx, s, t, after));
    }
  }
  expect(taken).toBe(300);
  // Mutations that keep a valid chunk (a digit of a version, a letter of a text value) are taken too.
  expect(mutatedTaken).toBeGreaterThan(0);

  // Hostile variants of one chunk, each decided as the general path decides it.
  const row = (over: Record<string, unknown> = {}, payload: Record<string, unknown> = {}): Record<string, unknown> => ({
    schema: 'main',
    table: 'parents',
    key: { id: uuid(1) },
    row_version: 3,
    ...over,
    payload: { id: uuid(1), tag: 't', n: '7', f: '2.5', d: '1.5', at: null, ...payload },
  });
  const chunkOf = (rows: unknown[], over: Record<string, unknown> = {}): string =>
    JSON.stringify({
      snapshot_id: SNAPSHOT_ID,
      snapshot_bundle_seq: 3,
      rows,
      next_row_ordinal: rows.length,
      byte_count: 10,
      has_more: false,
      ...over,
    });
  const s = session(3, 10);
  const variants: [string, string, boolean][] = [
    ['valid', chunkOf([row()]), true],
    ['empty, last', chunkOf([]), true],
    ['members in another order', chunkOf([{ ...row(), payload: { tag: 't', id: uuid(1), n: '7', f: '2.5', d: '1.5', at: null } }]), true],
    ['has_more with rows', chunkOf([row()], { has_more: true }), true],
    ['has_more without rows', chunkOf([], { has_more: true }), false],
    ['other snapshot id', chunkOf([row()], { snapshot_id: uuid(9) }), false],
    ['other snapshot_bundle_seq', chunkOf([row()], { snapshot_bundle_seq: 4 }), false],
    ['next_row_ordinal off by one', chunkOf([row()], { next_row_ordinal: 2 }), false],
    ['byte_count missing', chunkOf([row()]).replace(',"byte_count":10', ''), false],
    ['extra payload member', chunkOf([row({}, { _sync_scope_id: 'u' })]), false],
    ['missing payload member', chunkOf([{ ...row(), payload: { id: uuid(1) } }]), false],
    ['duplicate payload member', chunkOf([row()]).replace('"tag":"t"', '"tag":"t","tag":"u"'), false],
    ['escape in a value', chunkOf([row({}, { tag: 'a"b' })]), false],
    ['whitespace', chunkOf([row()]).replace(',"row_version"', ', "row_version"'), false],
    ['payload missing', chunkOf([{ schema: 'main', table: 'parents', key: { id: uuid(1) }, row_version: 3 }]), false],
    ['key with another member', chunkOf([row({ key: { id: uuid(1), x: '1' } })]), false],
    ['key of another name', chunkOf([row({ key: { uid: uuid(1) } })]), false],
    ['noncanonical key', chunkOf([row({ key: { id: uuid(1).toUpperCase() } })]), false],
    ['row_version 0', chunkOf([row({ row_version: 0 })]), false],
    ['row_version 1.0', chunkOf([row()]).replace('"row_version":3', '"row_version":3.0'), false],
    ['row_version 16 digits', chunkOf([row({ row_version: 1234567890123456 })]), false],
    ['boolean in a text column', chunkOf([row({}, { tag: true })]), false],
    ['bad integer', chunkOf([row({}, { n: '07' })]), false],
    ['integer as a number', chunkOf([row({}, { n: 7 })]), false],
    ['bad float', chunkOf([row({}, { f: '2.50' })]), false],
    ['bad decimal', chunkOf([row({}, { d: '1.5.1' })]), false],
    ['unknown table', chunkOf([row({ table: 'nope' })]), false],
    ['other schema', chunkOf([row({ schema: 'other' })]), false],
    ['trailing text', `${chunkOf([row()])} `, false],
    ['not JSON', chunkOf([row()]).slice(0, -1), false],
  ];
  for (const [what, text, takenHere] of variants) {
    const fast = decodeSnapshotChunkText(ctx, text, s, 0);
    expect(fast !== null, what).toBe(takenHere);
    if (fast !== null) expect(decoded(fast), what).toEqual(general(ctx, s, text, 0));
  }
});

it('learns the strings dialect from a chunk it takes, as the general path does', async () => {
  const text = JSON.stringify({
    snapshot_id: SNAPSHOT_ID,
    snapshot_bundle_seq: 1,
    rows: [
      {
        schema: 'main',
        table: 'parents',
        key: { id: uuid(1) },
        row_version: 1,
        payload: { id: uuid(1), tag: null, n: '5', f: null, d: null, at: null },
      },
    ],
    next_row_ordinal: 1,
    byte_count: 100,
    has_more: false,
  });
  const a = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(a);
  const b = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(b);
  expect(decodeSnapshotChunkText(ctxOf(a.engine), text, session(1, 1), 0)).not.toBeNull();
  encodeSnapshotRows(ctxOf(b.engine), parseJsonExact<SnapshotChunkResponse>(text), 0);
  expect([serverDialect(ctxOf(a.engine)), dialectEvidence(ctxOf(a.engine))]).toEqual([
    serverDialect(ctxOf(b.engine)),
    dialectEvidence(ctxOf(b.engine)),
  ]);
  expect(dialectEvidence(ctxOf(a.engine))).toBe('values');
});
