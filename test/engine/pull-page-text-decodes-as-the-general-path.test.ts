/**
 * A pull page in our server's layout is decoded straight from its text (`pull-page-text.ts`);
 * every other text goes the general way (`JSON.parse` + `validatePullPage`). The text decoder
 * must never accept what the general path refuses, and what it accepts must be the same page:
 * bundles, ops, versions, key_json, payloads and staged values. Checked on seeded pages of every
 * value family in the exact layout (each must be taken by the text decoder) and on thousands of
 * mutations of them (a character changed, dropped or doubled; a value replaced by a bad one).
 * The page arrives in pieces (a streamed response): fed in pieces cut anywhere, the decoder must
 * decide every text exactly as it does whole.
 */
import { expect, it } from 'vitest';
import { parseJsonExact } from '../../protocol/index.ts';
import type { SyncEngine, SyncedTable } from '../../worker/engine/index.ts';
import type { EngineContext } from '../../worker/engine/context.ts';
import { dialectEvidence, serverDialect } from '../../worker/engine/dialect.ts';
import { validatePullPage } from '../../worker/engine/pull.ts';
import type { DecodedRow } from '../../worker/engine/pull.ts';
import { decodePullPageText, PullPageReader } from '../../worker/engine/pull-page-text.ts';
import type { DecodedPullPage } from '../../worker/engine/pull-page-text.ts';
import type { PullResponse } from '../../protocol/index.ts';
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

const uuid = (n: number): string => `0b0e0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** A page as our server writes it: JSON.stringify's member order, strings and nulls as values. */
function page(rnd: () => number, after: number): { text: string; stable: number } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const bundles = [];
  let seq = after;
  for (let b = 0, n = 1 + Math.floor(rnd() * 3); b < n; b++) {
    seq += 1 + Math.floor(rnd() * 3);
    const rows = [];
    for (let r = 0, m = Math.floor(rnd() * 6); r < m; r++) {
      const parent = rnd() < 0.5;
      const op = pick(['INSERT', 'UPDATE', 'DELETE'] as const);
      // A text key is its own key_json unless escaped: an astral character (a surrogate pair, a lone
      // half once a mutation drops one) must be read as the general path reads it.
      const id = parent ? uuid(Math.floor(rnd() * 20)) : `k${Math.floor(rnd() * 20)} é${rnd() < 0.3 ? ' 😀' : ''}`;
      const payload =
        op === 'DELETE'
          ? undefined
          : parent
            ? {
                at: pick([null, '2026-12-06T10:00:00Z']),
                d: pick([null, '12.50', '-0.001', '7']),
                f: pick([null, '1.5', '-2', '1e+21', '0.1']),
                id,
                n: pick([null, '0', '-9223372036854775808', '42', '9007199254740993']),
                tag: pick([null, '', 'tag', 'ünïcödé ✓']),
              }
            : {
                bl: pick([null, '', 'AAECAw==', '/w==']),
                id,
                j: pick([null, 'str']),
                ok: pick([null, '0', '1']),
                parent_id: pick([null, uuid(3)]),
                u: pick([null, 'free text']),
              };
      rows.push({ schema: 'main', table: parent ? 'parents' : 'kids', key: { id }, op, row_version: seq, ...(payload ? { payload } : {}) });
    }
    bundles.push({
      bundle_seq: seq,
      source_id: 'src',
      source_bundle_id: b + 1,
      row_count: rows.length,
      bundle_hash: 'ab'.repeat(32),
      rows,
    });
  }
  const stable = seq + Math.floor(rnd() * 2);
  return { text: JSON.stringify({ stable_bundle_seq: stable, bundles, has_more: stable > seq }), stable };
}

function ctxOf(engine: SyncEngine): EngineContext {
  return (engine as unknown as { ctx: EngineContext }).ctx;
}

/** `text` fed to a reader in pieces of 1 to 40 characters, as a streamed response may come. */
function decodeInPieces(ctx: EngineContext, text: string, after: number, target: number, rnd: () => number): DecodedPullPage | null {
  const reader = new PullPageReader(ctx, after, target, 1);
  for (let i = 0; i < text.length;) {
    const n = 1 + Math.floor(rnd() * 40);
    reader.push(text.slice(i, i + n), false);
    i += n;
  }
  reader.push('', true);
  // Not taken: the whole text is still there for the general path; taken: none of it is kept twice.
  expect(reader.text()).toBe(reader.page === null ? text : '');
  return reader.page!;
}

/** What a decoded page says, for comparison. */
function decoded(p: DecodedPullPage | null): unknown {
  return p && { stable: p.stableBundleSeq, hasMore: p.hasMore, bundles: p.bundles.map((b) => ({ seq: b.seq, rows: rowsOf(b.rows) })) };
}

function rowsOf(rows: readonly DecodedRow[]): unknown[] {
  return rows.map((r) => ({
    table: r.t.table,
    keyJson: r.keyJson,
    op: r.op,
    version: r.version,
    payload: r.payload,
    staged: r.staged,
  }));
}

it('takes only what the general path accepts, and decodes it alike', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  const ctx = ctxOf(s.engine);
  const rnd = seededRandom(20261206);
  const cuts = seededRandom(20261207);
  let taken = 0;
  let mutatedTaken = 0;
  for (let n = 0; n < 300; n++) {
    const after = Math.floor(rnd() * 5);
    const { text, stable } = page(rnd, after);
    const target = rnd() < 0.3 ? stable : 0;
    for (let m = 0; m < 12; m++) {
      const t = m === 0 ? text : mutateWireText(rnd, text);
      let general: { stable: number; hasMore: boolean; bundles: unknown[] } | { error: string };
      try {
        const parsed = parseJsonExact<PullResponse>(t);
        const bundles = validatePullPage(ctx, parsed, after, target);
        general = {
          stable: parsed.stable_bundle_seq,
          hasMore: parsed.has_more,
          bundles: bundles.map((b) => ({ seq: b.seq, rows: rowsOf(b.rows) })),
        };
      } catch (e) {
        general = { error: (e as { code?: string }).code ?? 'json' };
      }
      const fast = decodePullPageText(ctx, t, after, target);
      expect(decoded(decodeInPieces(ctx, t, after, target, cuts)), t).toEqual(decoded(fast));
      if (m === 0) expect(fast, t).not.toBeNull();
      if (fast === null) continue;
      if (m === 0) taken++;
      else mutatedTaken++;
      expect(
        { stable: fast.stableBundleSeq, hasMore: fast.hasMore, bundles: fast.bundles.map((b) => ({ seq: b.seq, rows: rowsOf(b.rows) })) },
        t,
      ).toEqual(general);
    }
  }
  expect(taken).toBe(300);
  // Mutations that keep a valid page (a digit of a version, a letter of a text value) are taken too.
  expect(mutatedTaken).toBeGreaterThan(0);

  // Hostile variants of one page, each decided as the general path decides it.
  const row = (over: Record<string, unknown> = {}, payload: Record<string, unknown> | null = {}): Record<string, unknown> => ({
    schema: 'main',
    table: 'parents',
    key: { id: uuid(1) },
    op: 'INSERT',
    row_version: 3,
    ...over,
    ...(payload === null ? {} : { payload: { at: null, d: '1.5', f: '2.5', id: uuid(1), n: '7', tag: 't', ...payload } }),
  });
  const kid = (id: string): Record<string, unknown> => ({
    schema: 'main',
    table: 'kids',
    key: { id },
    op: 'INSERT',
    row_version: 3,
    payload: { bl: null, id, j: null, ok: null, parent_id: null, u: null },
  });
  const pageOf = (rows: unknown[], over: Record<string, unknown> = {}, bundle: Record<string, unknown> = {}): string =>
    JSON.stringify({
      stable_bundle_seq: 3,
      bundles: [{ bundle_seq: 3, source_id: 's', source_bundle_id: 1, row_count: rows.length, bundle_hash: 'h', rows, ...bundle }],
      has_more: false,
      ...over,
    });
  const variants: [string, string, boolean][] = [
    ['valid', pageOf([row()]), true],
    ['members in another order', pageOf([row({}, { tag: 't', id: uuid(1) })]), true],
    ['extra payload member', pageOf([row({}, { _sync_scope_id: 'u' })]), false],
    ['missing payload member', pageOf([{ ...row(), payload: { id: uuid(1) } }]), false],
    ['duplicate payload member', pageOf([row()]).replace('"tag":"t"', '"tag":"t","tag":"u"'), false],
    ['duplicate payload member, same value', pageOf([row()]).replace('"n":"7"', '"n":"7","n":"7"'), false],
    ['escape in a value', pageOf([row({}, { tag: 'a"b' })]), false],
    ['whitespace', pageOf([row()]).replace(',"op"', ', "op"'), false],
    ['DELETE with a payload', pageOf([row({ op: 'DELETE' })]), false],
    ['INSERT without a payload', pageOf([row({}, null)]), false],
    ['key with another member', pageOf([row({ key: { id: uuid(1), x: '1' } })]), false],
    ['key of another name', pageOf([row({ key: { uid: uuid(1) } })]), false],
    ['noncanonical key', pageOf([row({ key: { id: uuid(1).toUpperCase() } })]), false],
    ['row_version 0', pageOf([row({ row_version: 0 })]), false],
    ['row_version 1.0', pageOf([row()]).replace('"row_version":3', '"row_version":3.0'), false],
    ['row_version 16 digits', pageOf([row({ row_version: 1234567890123456 })]), false],
    ['bundle_seq above stable', pageOf([row()], {}, { bundle_seq: 4 }), false],
    ['stable 0 with bundles', pageOf([row()], { stable_bundle_seq: 0 }, { bundle_seq: 0 }), false],
    ['bad integer', pageOf([row({}, { n: '07' })]), false],
    ['integer as a number', pageOf([row({}, { n: 7 })]), false],
    ['bad float', pageOf([row({}, { f: '2.50' })]), false],
    ['bad decimal', pageOf([row({}, { d: '1.5.1' })]), false],
    ['unknown table', pageOf([row({ table: 'nope' })]), false],
    ['other schema', pageOf([row({ schema: 'other' })]), false],
    ['unknown op', pageOf([row({ op: 'UPSERT' })]), false],
    ['has_more missing', pageOf([row()]).replace(',"has_more":false', ''), false],
    ['trailing text', `${pageOf([row()])} `, false],
    ['not JSON', pageOf([row()]).slice(0, -1), false],
    // Unescaped in the text, escaped in the key_json the general path writes (JSON.stringify).
    ['lone surrogate in a text key', pageOf([kid('k\ud800')]).replaceAll('\\ud800', '\ud800'), true],
    ['surrogate pair in a text key', pageOf([kid('k 😀')]), true],
  ];
  for (const [what, text, takenHere] of variants) {
    let general: unknown;
    try {
      const parsed = parseJsonExact<PullResponse>(text);
      general = validatePullPage(ctx, parsed, 0, 0).map((b) => ({ seq: b.seq, rows: rowsOf(b.rows) }));
    } catch (e) {
      general = { error: (e as { code?: string }).code ?? 'json' };
    }
    const fast = decodePullPageText(ctx, text, 0, 0);
    expect(fast !== null, what).toBe(takenHere);
    expect(decoded(decodeInPieces(ctx, text, 0, 0, cuts)), what).toEqual(decoded(fast));
    if (fast !== null)
      expect(
        fast.bundles.map((b) => ({ seq: b.seq, rows: rowsOf(b.rows) })),
        what,
      ).toEqual(general);
  }
});

it('learns the strings dialect from a page it takes, as the general path does', async () => {
  const text = JSON.stringify({
    stable_bundle_seq: 1,
    bundles: [
      {
        bundle_seq: 1,
        source_id: 'src',
        source_bundle_id: 1,
        row_count: 1,
        bundle_hash: 'ab',
        rows: [
          {
            schema: 'main',
            table: 'parents',
            key: { id: uuid(1) },
            op: 'INSERT',
            row_version: 1,
            payload: { at: null, d: null, f: null, id: uuid(1), n: '5', tag: null },
          },
        ],
      },
    ],
    has_more: false,
  });
  const a = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(a);
  const b = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(b);
  expect(decodePullPageText(ctxOf(a.engine), text, 0, 0)).not.toBeNull();
  validatePullPage(ctxOf(b.engine), parseJsonExact<PullResponse>(text), 0, 0);
  expect([serverDialect(ctxOf(a.engine)), dialectEvidence(ctxOf(a.engine))]).toEqual([
    serverDialect(ctxOf(b.engine)),
    dialectEvidence(ctxOf(b.engine)),
  ]);
  expect(dialectEvidence(ctxOf(a.engine))).toBe('values');
});
