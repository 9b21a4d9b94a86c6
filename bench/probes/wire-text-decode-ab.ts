/**
 * CPU of decoding our server's response text alone (no HTTP, no SQLite apply): a pull page of
 * N rows (`decodePullPageText`, and fed in 16 KiB pieces to `PullPageReader` as a stream is) and a
 * snapshot chunk of N rows (`decodeSnapshotChunkText`), for each checkout in ENGINE_ROOTS,
 * interleaved (the order rotates every repeat). Texts are built once, in the strings-dialect
 * layout our server writes, over every value family. Prints per checkout and decode the median
 * ms of one decode (each sample: the mean of `--inner` decodes) and the spread, and per checkout
 * after the first the median of its per-repeat ratio to the first.
 *
 *   ENGINE_ROOTS=/tmp/base,. npx tsx bench/probes/wire-text-decode-ab.ts [--rows 10000] [--repeats 15] [--inner 10]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SyncedTable } from '../../worker/engine/index.ts';
import type { EngineContext } from '../../worker/engine/context.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '10000'));
const REPEATS = Number(arg('repeats', '15'));
const INNER = Number(arg('inner', '10'));
const roots = (process.env.ENGINE_ROOTS ?? '.').split(',').map((r) => pathToFileURL(`${resolve(r)}/`).href);

const SCHEMA = `
CREATE TABLE parents (id BLOB PRIMARY KEY NOT NULL, tag TEXT, n INTEGER, f REAL, d TEXT, at TEXT);
CREATE TABLE kids (id TEXT PRIMARY KEY NOT NULL, parent_id BLOB REFERENCES parents(id), ok INTEGER, bl BLOB, j TEXT, u TEXT);`;
const TABLES: SyncedTable[] = [
  { table: 'parents', syncKey: 'id', columns: { d: 'decimal', at: 'timestamp' } },
  { table: 'kids', syncKey: 'id', columns: { ok: 'boolean', j: 'json' } },
];
const SNAPSHOT_ID = '5f0c0000-0000-4000-8000-000000000001';
const uuid = (n: number): string => `0b0e0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** Row `i`: a parent (BLOB uuid key) or a kid (TEXT key), payload members in JSON.stringify order. */
function row(i: number, boolean: (b: boolean) => unknown): { table: string; id: string; payload: Record<string, unknown> } {
  if (i % 2 === 0) {
    const id = uuid(i);
    return {
      table: 'parents',
      id,
      payload: { id, tag: `tag ${i}`, n: String(i * 7919), f: String(i / 8), d: `${i}.50`, at: '2026-12-06T10:00:00Z' },
    };
  }
  const id = `k${i}`;
  return {
    table: 'kids',
    id,
    payload: { id, parent_id: uuid(i - 1), ok: boolean(i % 3 === 0), bl: 'AAECAw==', j: 'str', u: i % 5 === 0 ? null : `free text ${i}` },
  };
}

// Bundle rows carry booleans as "1"/"0" (what the pull decoder took before it read booleans too).
const pullText = JSON.stringify({
  stable_bundle_seq: 2,
  bundles: [
    {
      bundle_seq: 2,
      source_id: 'src',
      source_bundle_id: 1,
      row_count: ROWS,
      bundle_hash: 'ab'.repeat(32),
      rows: Array.from({ length: ROWS }, (_, i) => {
        const r = row(i, (b) => (b ? '1' : '0'));
        return { schema: 'main', table: r.table, key: { id: r.id }, op: 'INSERT', row_version: 2, payload: r.payload };
      }),
    },
  ],
  has_more: false,
});
const chunkText = JSON.stringify({
  snapshot_id: SNAPSHOT_ID,
  snapshot_bundle_seq: 2,
  rows: Array.from({ length: ROWS }, (_, i) => {
    const r = row(i, (b) => b);
    return { schema: 'main', table: r.table, key: { id: r.id }, row_version: 2, payload: r.payload };
  }),
  next_row_ordinal: ROWS,
  byte_count: 0,
  has_more: false,
});
const session = { snapshot_id: SNAPSHOT_ID, snapshot_bundle_seq: 2, row_count: ROWS, byte_count: 0, expires_at: '2026-12-06T12:00:00Z' };

interface Side {
  root: string;
  decodes: Record<'pull' | 'pull-streamed' | 'snapshot', () => unknown>;
  ms: Record<string, number[]>;
}

const sides: Side[] = [];
for (const root of roots) {
  const support = (await import(`${root}test/engine/support/engine.ts`)) as typeof import('../../test/engine/support/engine.ts');
  const pull = (await import(`${root}worker/engine/pull-page-text.ts`)) as typeof import('../../worker/engine/pull-page-text.ts');
  const snap = (await import(`${root}worker/engine/snapshot-chunk-text.ts`)) as typeof import('../../worker/engine/snapshot-chunk-text.ts');
  const s = await support.openEngine(SCHEMA, TABLES);
  await support.attachStartedEmpty(s);
  const ctx = (s.engine as unknown as { ctx: EngineContext }).ctx;
  const decodes = {
    pull: () => pull.decodePullPageText(ctx, pullText, 0, 0),
    'pull-streamed': () => {
      const reader = new pull.PullPageReader(ctx, 0, 0);
      for (let i = 0; i < pullText.length; i += 16384) reader.push(pullText.slice(i, i + 16384), false);
      reader.push('', true);
      return reader.page;
    },
    snapshot: () => snap.decodeSnapshotChunkText(ctx, chunkText, session, 0),
  };
  for (const [name, decode] of Object.entries(decodes)) if (!decode()) throw new Error(`${root}: ${name} not taken`);
  sides.push({ root, decodes, ms: {} });
}

for (let r = 0; r < REPEATS; r++) {
  const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
  for (const side of order) {
    for (const [name, decode] of Object.entries(side.decodes)) {
      const start = process.cpuUsage();
      for (let k = 0; k < INNER; k++) decode();
      const used = process.cpuUsage(start);
      (side.ms[name] ??= []).push((used.user + used.system) / 1000 / INNER);
    }
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`rows ${ROWS}, ${REPEATS} repeats × ${INNER} decodes; pull page ${pullText.length} chars, chunk ${chunkText.length} chars`);
for (const side of sides) {
  for (const [name, xs] of Object.entries(side.ms)) {
    const sorted = [...xs].sort((a, b) => a - b);
    console.log(
      `${side.root.padEnd(40)} ${name.padEnd(14)} median ${median(xs).toFixed(2)} ms CPU  (min ${sorted[0]!.toFixed(2)}, max ${sorted.at(-1)!.toFixed(2)})`,
    );
  }
}
// Paired: each repeat ran every checkout back to back, so the ratio per repeat cancels most load.
for (const side of sides.slice(1)) {
  for (const name of Object.keys(side.ms)) {
    const ratios = side.ms[name]!.map((x, r) => x / sides[0]!.ms[name]![r]!);
    console.log(`${side.root} ÷ ${sides[0]!.root} ${name}: median per-repeat ratio ${median(ratios).toFixed(3)}`);
  }
}
process.exit(0);
