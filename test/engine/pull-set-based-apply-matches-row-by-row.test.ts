/**
 * The set-based bundle apply (`applyPulledBundle`) leaves exactly the state the row-by-row apply
 * (`applyPulledBundleRowByRow` in support/row-by-row-apply.ts, the previous code) leaves: app rows (type and value of every
 * column), row_state, dirty intents, checkpoint, touched tables, and the same error code with
 * nothing applied when a bundle fails (FK at COMMIT).
 *
 * Two engines over the same schema get the same seeded sequence of bundles and local writes.
 * Bundles mix long runs (set-based statements) and short ones, several ops on one key in one
 * bundle (INSERT → UPDATE → DELETE, DELETE → INSERT), stale versions (re-pulls), parent deletes
 * that cascade, and keys with local intents. (UNIQUE values stay per key: a constraint error inside
 * a `runCached` statement leaves it un-reset, so the per-row reference then fails its next bind with
 * SQLITE_MISUSE, a separate bug in statements.ts.)
 */
import { expect, it } from 'vitest';
import type { JsonValue, PullResponse } from '../../protocol/index.ts';
import type { SyncEngine } from '../../worker/engine/index.ts';
import type { EngineContext } from '../../worker/engine/context.ts';
import { applyPulledBundle, validatePullPage } from '../../worker/engine/pull.ts';
import { applyPulledBundleRowByRow } from './support/row-by-row-apply.ts';
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

function ctxOf(engine: SyncEngine): EngineContext {
  return (engine as unknown as { ctx: EngineContext }).ctx;
}

function snapshot(s: EngineSetup): unknown {
  return {
    parents: rows(s.db, 'SELECT hex(id) AS id, tag, typeof(n) AS tn, n, typeof(f) AS tf, f FROM parents ORDER BY id'),
    kids: rows(s.db, 'SELECT id, hex(parent_id) AS p, typeof(ok) AS tok, ok, typeof(bl) AS tbl, hex(bl) AS bl, j, d FROM kids ORDER BY id'),
    rowState: rows(
      s.db,
      'SELECT schema_name, table_name, key_json, row_version, deleted FROM _sync_row_state ORDER BY table_name, key_json',
    ),
    dirty: rows(s.db, 'SELECT table_name, key_json, op, payload FROM _sync_dirty_rows ORDER BY table_name, key_json'),
    checkpoint: scalar(s.db, 'SELECT last_bundle_seq_seen FROM _sync_attachment_state'),
  };
}

type Row = PullResponse['bundles'][number]['rows'][number];

function makeBundle(rnd: () => number, version: () => number): Row[] {
  const pick = (n: number) => Math.floor(rnd() * n);
  const out: Row[] = [];
  const runs = 1 + pick(5);
  for (let r = 0; r < runs; r++) {
    const parents = rnd() < 0.4;
    const del = rnd() < (parents ? 0.1 : 0.25);
    // Long runs take the set-based statements, short ones the row-by-row writes.
    const len = rnd() < 0.5 ? 8 + pick(30) : 1 + pick(6);
    for (let i = 0; i < len; i++) {
      // Sometimes reuse a key already in this bundle, so one key gets several ops in order.
      const reuse = out.length > 0 && rnd() < 0.3 ? out[pick(out.length)] : undefined;
      const sameTable = reuse && (reuse.table === 'parents') === parents;
      const n = parents ? pick(PARENTS) : pick(KIDS);
      const id = sameTable ? (reuse.key as Record<string, string>).id! : parents ? uuid(n + 1) : `k${n}`;
      // A stale version now and then (a re-pull of something older).
      const v = rnd() < 0.1 ? 1 + pick(5) : version();
      if (del) {
        out.push({ schema: 'main', table: parents ? 'parents' : 'kids', key: { id }, op: 'DELETE', row_version: v, payload: null } as Row);
        continue;
      }
      const op = rnd() < 0.5 ? 'INSERT' : 'UPDATE';
      const payload: Record<string, JsonValue> = parents
        ? {
            id,
            tag: rnd() < 0.3 ? null : `t${id.slice(-2)}-${pick(3)}`,
            n: String(pick(1000) - 500),
            f: rnd() < 0.5 ? '1e+21' : String(pick(1000) / 8),
          }
        : {
            id,
            parent_id: rnd() < 0.6 ? null : uuid(pick(PARENTS) + 1),
            ok: rnd() < 0.5,
            bl: rnd() < 0.2 ? null : ['', 'AAECAw==', '/w=='][pick(3)]!,
            j: [{ a: [1, 'x'] }, 'str', 42, null][pick(4)]!,
            d: rnd() < 0.5 ? null : `${pick(100)}.5`,
          };
      out.push({ schema: 'main', table: parents ? 'parents' : 'kids', key: { id }, op, row_version: v, payload } as Row);
    }
  }
  return out;
}

function apply(s: EngineSetup, setBased: boolean, seq: number, bundleRows: Row[]): { touched?: string[]; error?: string } {
  const ctx = ctxOf(s.engine);
  const page: PullResponse = {
    stable_bundle_seq: seq,
    has_more: false,
    bundles: [{ bundle_seq: seq, source_id: 'x', source_bundle_id: seq, rows: bundleRows }],
  } as PullResponse;
  const [b] = validatePullPage(ctx, page, seq - 1, 0);
  try {
    const touched = (setBased ? applyPulledBundle : applyPulledBundleRowByRow)(ctx, b!.seq, b!.rows);
    return { touched: [...touched].sort() };
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

it('gives the row-by-row result on a seeded mix of bundles, local intents and failures', async () => {
  const a = await openEngine(SCHEMA, TABLES);
  const b = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(a);
  await attachStartedEmpty(b);
  const rnd = seededRandom(20261125);
  let v = 10;
  const version = () => (v += 1);
  let seq = 0;
  const outcomes = { ok: 0, failed: 0, withIntents: 0 };
  for (let i = 0; i < 150; i++) {
    // The same random draws drive both devices: local writes first (only on some bundles).
    if (i % 5 === 3) {
      const seed = Math.floor(rnd() * 1e9);
      const ra = seededRandom(seed);
      const rb = seededRandom(seed);
      for (let w = 0; w < 3; w++) {
        localWrite(a, ra);
        localWrite(b, rb);
      }
    }
    // Intents are cleared now and then (as a push would), so most bundles take the no-intent path.
    if (i % 5 === 0) {
      a.db.exec('DELETE FROM _sync_dirty_rows');
      b.db.exec('DELETE FROM _sync_dirty_rows');
    }
    if (Number(scalar(a.db, 'SELECT COUNT(*) FROM _sync_dirty_rows')) > 0) outcomes.withIntents++;
    const bundleRows = makeBundle(rnd, version);
    const next = seq + 1;
    const ra = apply(a, true, next, bundleRows);
    const rb = apply(b, false, next, bundleRows);
    expect(ra, `bundle ${i}`).toEqual(rb);
    if (ra.error) outcomes.failed++;
    else {
      outcomes.ok++;
      seq = next;
    }
    expect(snapshot(a), `bundle ${i}`).toEqual(snapshot(b));
  }
  // The mix really exercised both outcomes and local intents.
  expect(outcomes.ok).toBeGreaterThan(40);
  expect(outcomes.failed).toBeGreaterThan(5);
  expect(outcomes.withIntents).toBeGreaterThan(10);
  expect(Number(scalar(a.db, 'SELECT COUNT(*) FROM kids'))).toBeGreaterThan(0);
});
