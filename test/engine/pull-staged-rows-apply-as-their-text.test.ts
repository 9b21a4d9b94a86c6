/**
 * Rows of a pull page are staged into SQLite while the page arrives (`pull-stage.ts`), and the
 * apply copies a run of rows from there instead of taking their staged text apart. The result
 * must be exactly that of the apply from the text: app rows (type and value of every column),
 * row_state, dirty intents, checkpoint, touched tables, and the same error with nothing applied.
 *
 * Two engines get the same seeded pages (80) in our server's text layout: one decodes each page with
 * staging (fed in pieces, as a streamed response), the other through the general path (no
 * stage). Bundles mix long and short runs, several ops on one key, stale versions, cascading
 * parent deletes, keys with local intents (their rows are skipped, so a staged run is no longer
 * one block), and now and then staged rows lost before the apply (an app statement on the TEMP
 * table): the run is then written from its text. At the end of a pull the stage is empty.
 */
import { expect, it } from 'vitest';
import type { SyncEngine } from '../../worker/engine/index.ts';
import type { EngineContext } from '../../worker/engine/context.ts';
import { applyPulledBundle, validatePullPage } from '../../worker/engine/pull.ts';
import type { DecodedRow } from '../../worker/engine/pull.ts';
import { PullPageReader } from '../../worker/engine/pull-page-text.ts';
import { clearPullStage } from '../../worker/engine/pull-stage.ts';
import { parseJsonExact } from '../../protocol/index.ts';
import type { PullResponse } from '../../protocol/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import type { EngineSetup } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';
import { seededRandom } from '../harness/seeded-random.ts';

const SCHEMA = `
CREATE TABLE parents (id BLOB PRIMARY KEY NOT NULL, tag TEXT UNIQUE, n INTEGER, f REAL);
CREATE TABLE kids (
  id TEXT PRIMARY KEY NOT NULL,
  parent_id BLOB REFERENCES parents(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  ok INTEGER, bl BLOB, j TEXT, d TEXT
);`;
const TABLES = [
  { table: 'parents', syncKey: 'id' },
  { table: 'kids', syncKey: 'id', columns: { ok: 'boolean' as const, j: 'json' as const, d: 'decimal' as const } },
];

const uuid = (n: number) => `0b0e0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const PARENTS = 12;
const KIDS = 40;
const SEED = 20261206;
/** Bundles per run: enough for every path below (the counts at the end say so), few enough for a loaded machine. */
const BUNDLES = 80;

function ctxOf(engine: SyncEngine): EngineContext {
  return (engine as unknown as { ctx: EngineContext }).ctx;
}

function snapshot(s: EngineSetup): unknown {
  return {
    parents: rows(s.db, 'SELECT hex(id) AS id, tag, typeof(n) AS tn, n, typeof(f) AS tf, f FROM parents ORDER BY id'),
    kids: rows(
      s.db,
      'SELECT id, hex(parent_id) AS p, typeof(ok) AS tok, ok, typeof(bl) AS tbl, hex(bl) AS bl, typeof(j) AS tj, j, typeof(d) AS td, d FROM kids ORDER BY id',
    ),
    rowState: rows(s.db, 'SELECT table_name, key_json, row_version, deleted FROM _sync_row_state ORDER BY table_name, key_json'),
    dirty: rows(s.db, 'SELECT table_name, key_json, op, payload FROM _sync_dirty_rows ORDER BY table_name, key_json'),
    checkpoint: scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state'),
  };
}

/** One bundle's rows as our server writes them: strings and nulls as values, no payload on a DELETE. */
function makeRows(rnd: () => number, version: () => number): unknown[] {
  const pick = (n: number) => Math.floor(rnd() * n);
  const out: { table: string; key: { id: string } }[] = [];
  for (let r = 0, runs = 1 + pick(5); r < runs; r++) {
    const parents = rnd() < 0.4;
    const del = rnd() < (parents ? 0.1 : 0.25);
    const len = rnd() < 0.6 ? 8 + pick(40) : 1 + pick(6);
    for (let i = 0; i < len; i++) {
      const reuse = out.length > 0 && rnd() < 0.2 ? out[pick(out.length)] : undefined;
      const id = reuse && (reuse.table === 'parents') === parents ? reuse.key.id : parents ? uuid(pick(PARENTS) + 1) : `k${pick(KIDS)}`;
      const v = rnd() < 0.1 ? 1 + pick(5) : version();
      const head = { schema: 'main', table: parents ? 'parents' : 'kids', key: { id } };
      if (del) {
        out.push({ ...head, op: 'DELETE', row_version: v } as never);
        continue;
      }
      const payload = parents
        ? {
            id,
            tag: rnd() < 0.3 ? null : `t${id.slice(-2)}-${pick(3)}`,
            n: String(pick(1000) - 500),
            f: rnd() < 0.5 ? '1e+21' : String(pick(1000) / 8),
          }
        : {
            id,
            parent_id: rnd() < 0.6 ? null : uuid(pick(PARENTS) + 1),
            ok: rnd() < 0.5 ? '1' : '0',
            bl: rnd() < 0.2 ? null : ['', 'AAECAw==', '/w=='][pick(3)]!,
            j: rnd() < 0.5 ? null : 'str',
            d: rnd() < 0.5 ? null : `${pick(100)}.5`,
          };
      out.push({ ...head, op: rnd() < 0.5 ? 'INSERT' : 'UPDATE', row_version: v, payload } as never);
    }
  }
  return out;
}

function pageText(seq: number, bundleRows: unknown[]): string {
  return JSON.stringify({
    stable_bundle_seq: seq,
    bundles: [
      {
        bundle_seq: seq,
        source_id: 'x',
        source_bundle_id: seq,
        row_count: bundleRows.length,
        bundle_hash: 'ab'.repeat(32),
        rows: bundleRows,
      },
    ],
    has_more: false,
  });
}

/** The page's rows: staged (decoded in pieces by a staging reader) or by the general path. */
function decode(ctx: EngineContext, text: string, seq: number, staged: boolean, rnd: () => number): DecodedRow[] {
  if (!staged) return validatePullPage(ctx, parseJsonExact<PullResponse>(text), seq - 1, 0)[0]!.rows;
  const reader = new PullPageReader(ctx, seq - 1, 0, 1 + Math.floor(rnd() * 8000), true);
  for (let i = 0; i < text.length;) {
    const n = 1 + Math.floor(rnd() * 4000);
    reader.push(text.slice(i, i + n), false);
    i += n;
  }
  reader.push('', true);
  expect(reader.page, 'the text decoder takes the page').toBeTruthy();
  return reader.page!.bundles[0]!.rows;
}

/** Rows in the stage tables (those created so far). */
function inStage(s: EngineSetup): number {
  const tables = rows(s.db, "SELECT name FROM sqlite_temp_master WHERE type = 'table' AND name LIKE '_sync_pull_%'");
  return tables.reduce((n, t) => n + Number(scalar(s.db, `SELECT COUNT(*) FROM temp."${String(t.name)}"`)), 0);
}

function apply(s: EngineSetup, seq: number, decoded: DecodedRow[]): { touched?: string[]; error?: string } {
  try {
    return { touched: [...applyPulledBundle(ctxOf(s.engine), seq, decoded)].sort() };
  } catch (e) {
    return { error: (e as { code?: string }).code ?? String(e) };
  }
}

function localWrite(s: EngineSetup, rnd: () => number): void {
  const n = Math.floor(rnd() * KIDS);
  if (rnd() < 0.5)
    s.db.exec({
      sql: `INSERT INTO kids (id, ok, j) VALUES (?, 1, '"local"') ON CONFLICT(id) DO UPDATE SET j = '"local"'`,
      bind: [`k${n}`],
    });
  else s.db.exec({ sql: 'DELETE FROM kids WHERE id = ?', bind: [`k${n}`] });
}

it('applies staged rows exactly as from their text', async () => {
  console.log(`pull stage seed=${SEED}`);
  const a = await openEngine(SCHEMA, TABLES);
  const b = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(a);
  await attachStartedEmpty(b);
  const rnd = seededRandom(SEED);
  let v = 10;
  const version = () => (v += 1);
  let seq = 0;
  const seen = { ok: 0, failed: 0, withIntents: 0, staged: 0, lost: 0 };
  for (let i = 0; i < BUNDLES; i++) {
    if (i % 5 === 3) {
      const seed = Math.floor(rnd() * 1e9);
      const ra = seededRandom(seed);
      const rb = seededRandom(seed);
      for (let w = 0; w < 3; w++) {
        localWrite(a, ra);
        localWrite(b, rb);
      }
    }
    if (i % 5 === 0) {
      a.db.exec('DELETE FROM _sync_dirty_rows');
      b.db.exec('DELETE FROM _sync_dirty_rows');
    }
    if (Number(scalar(a.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')) > 0) seen.withIntents++;
    const next = seq + 1;
    const text = pageText(next, makeRows(rnd, version));
    const staged = decode(ctxOf(a.engine), text, next, true, rnd);
    const plain = decode(ctxOf(b.engine), text, next, false, rnd);
    const staging = inStage(a);
    if (staging > 0) seen.staged++;
    // Now and then the stage loses rows before the apply.
    if (staging > 0 && rnd() < 0.15) {
      for (const t of ['parents', 'kids'])
        if (scalar(a.db, `SELECT name FROM sqlite_temp_master WHERE name = '_sync_pull_${t}'`))
          a.db.exec(`DELETE FROM temp._sync_pull_${t} WHERE ord % 3 = 0`);
      seen.lost++;
    }
    const ra = apply(a, next, staged);
    const rb = apply(b, next, plain);
    expect(ra, `bundle ${i}`).toEqual(rb);
    if (ra.error) seen.failed++;
    else {
      seen.ok++;
      seq = next;
    }
    expect(snapshot(a), `bundle ${i}`).toEqual(snapshot(b));
    if (i % 10 === 9) clearPullStage(ctxOf(a.engine));
  }
  console.log(`pull stage outcomes ${JSON.stringify(seen)}`);
  expect(seen.ok).toBeGreaterThan(20);
  expect(seen.failed).toBeGreaterThan(3);
  expect(seen.withIntents).toBeGreaterThan(5);
  expect(seen.staged).toBeGreaterThan(50);
  expect(seen.lost).toBeGreaterThan(3);
});

it('leaves the stage empty after a pull', async () => {
  const a = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(a);
  const ctx = ctxOf(a.engine);
  const text = pageText(
    1,
    makeRows(seededRandom(SEED + 1), () => 5),
  );
  decode(ctx, text, 1, true, seededRandom(SEED + 2));
  expect(inStage(a)).toBeGreaterThan(0);
  clearPullStage(ctx);
  expect(inStage(a)).toBe(0);
});
