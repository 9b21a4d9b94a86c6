/**
 * What the capture triggers cost a pulled row's upsert (Node, sqlite-wasm memory VFS): 9,984
 * `typed_rows` upserted in one apply transaction (capture suppressed), 64 rows per multi-row
 * statement as `upsertStaged` writes them, on a device with the engine's triggers, with its
 * AFTER INSERT trigger's WHEN constant false, and with every capture trigger dropped (what
 * `withoutCaptureTriggers` gives). Fresh device per run, variants alternating; prints the median
 * and minimum CPU of the statements' steps (the binds are outside the timing).
 *
 *   npx tsx bench/probes/pull-upsert-triggers.ts [repeats=11]
 */
import { benchUuid, openExampleDevice } from '../lib/example-device.ts';
import { applyTransaction } from '../../worker/engine/capture.ts';

const N = 9984;
const PER = 64;
const REPEATS = Number(process.argv[2] ?? 11);
const cols = ['id', 'name', 'note', 'count_value', 'enabled_flag', 'rating', 'data', 'created_at'];
const exprs = ['?', '?', '?', 'CAST(? AS INTEGER)', 'CAST(? AS INTEGER)', 'CAST(? AS REAL)', 'unhex(?)', '?'];
const note = (i: number): string => `row ${i} `.padEnd(150, 'abcdefghijklmnopqrstuvwxyz0123456789');
const rows = Array.from({ length: N }, (_, i) => [benchUuid(7, i), `row ${i}`, note(i), String(i), '1', String(i + 0.5), null, null]);
const updates = cols
  .slice(1)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');
const upsert = `INSERT INTO typed_rows (${cols.join(', ')}) VALUES ${Array(PER)
  .fill(`(${exprs.join(', ')})`)
  .join(', ')} ON CONFLICT(id) DO UPDATE SET ${updates}`;
type Variant = 'triggers' | 'when false' | 'no triggers';

async function run(variant: Variant): Promise<number> {
  const d = await openExampleDevice('http://127.0.0.1:1', async () => 'unused');
  const db = d.db;
  const names = ['ai', 'au', 'auk', 'ad', 'akd'].map((s) => `trg_typed_rows_${s}`);
  if (variant === 'no triggers') for (const n of names) db.exec(`DROP TRIGGER ${n}`);
  if (variant === 'when false') {
    const sql = String(db.selectValue("SELECT sql FROM sqlite_schema WHERE name = 'trg_typed_rows_ai'"));
    db.exec('DROP TRIGGER trg_typed_rows_ai');
    db.exec(sql.replace(' WHEN CASE _sync_capture_enabled()', ' WHEN 0 AND CASE _sync_capture_enabled()'));
  }
  const stmt = db.prepare(upsert);
  let cpu = 0;
  applyTransaction(db, () => {
    for (let i = 0; i < N; i += PER) {
      stmt.bind(rows.slice(i, i + PER).flat());
      const c0 = process.cpuUsage();
      stmt.step();
      const c = process.cpuUsage(c0);
      cpu += (c.user + c.system) / 1000;
      stmt.reset(true);
    }
  });
  stmt.finalize();
  if (Number(db.selectValue('SELECT count(*) FROM _sync_dirty_rows')) !== 0) throw new Error('pulled rows were captured');
  await d.close();
  return cpu;
}

const variants: Variant[] = ['triggers', 'when false', 'no triggers'];
const cpu = new Map<Variant, number[]>(variants.map((v) => [v, []]));
for (let r = 0; r < REPEATS; r++) for (const v of r % 2 ? [...variants].reverse() : variants) cpu.get(v)!.push(await run(v));
for (const [v, xs] of cpu) {
  xs.sort((a, b) => a - b);
  console.log(`${v.padEnd(12)} step CPU median ${xs[xs.length >> 1]!.toFixed(1)} ms, min ${xs[0]!.toFixed(1)} ms per ${N} rows`);
}
process.exit(0);
