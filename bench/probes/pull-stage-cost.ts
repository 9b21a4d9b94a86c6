/**
 * What a pull stage (rows staged decoded into a TEMP table while the page arrives; tried and
 * reverted in session 14, see BENCHMARKS.md "Pull rows staged into SQLite") moves off the
 * apply, in Node (sqlite-wasm
 * memory VFS), for N `typed_rows` (~200 B, go-oversync's example schema) with the worker's table
 * monitor (`table-access.ts`, its per-row update hook) installed as in the browser worker. Per
 * repeat, alternating order, each on a fresh connection:
 * - `text`: the apply's set-based upsert from the rows' staged JSON text (one statement);
 * - `stage rowid` / `stage without rowid`: the rows staged in statements of 1,000 (decoded), then
 *   `copy`: the apply's upsert from the stage by ordinals, and `delete`: emptying it again.
 * Prints medians and minima in ms.
 *
 *   npx tsx bench/probes/pull-stage-cost.ts [--rows 10000] [--repeats 31]
 */
import { nodeSqlite } from '../lib/node-device.ts';
import { LOCAL_SCHEMA } from '../../interop/node/support/example-schema.ts';
import { TableAccessMonitor } from '../../worker/database/table-access.ts';
import { median } from '../lib/stats.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const N = Number(arg('rows', '10000'));
const REPEATS = Number(arg('repeats', '31'));
const sqlite3 = await nodeSqlite();
const note = (i: number) => `row ${i} `.padEnd(150, 'abcdefghijklmnopqrstuvwxyz0123456789');
const uuid = (i: number) => `00000007-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const staged = Array.from({ length: N }, (_, i) => JSON.stringify([uuid(i), `row ${i}`, note(i), String(i), 1, i + 0.5, null, null]));
const cols = 'id, name, note, count_value, enabled_flag, rating, data, created_at';
const updates = cols
  .split(', ')
  .slice(1)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');
const decoded = `j.value ->> 0, j.value ->> 1, j.value ->> 2, CAST(j.value ->> 3 AS INTEGER), CAST(j.value ->> 4 AS INTEGER), CAST(j.value ->> 5 AS REAL), unhex(j.value ->> 6), j.value ->> 7`;
const samples = new Map<string, number[]>();
const note_ = (k: string, ms: number) => samples.set(k, [...(samples.get(k) ?? []), ms]);

function run(way: 'text' | 'stage rowid' | 'stage without rowid'): void {
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  db.exec(LOCAL_SCHEMA);
  const monitor = new TableAccessMonitor(sqlite3, db);
  try {
    if (way === 'text') {
      const t0 = performance.now();
      db.transaction(() =>
        db.exec({
          sql: `INSERT INTO typed_rows (${cols}) SELECT ${decoded} FROM jsonb_each(jsonb(?1)) AS j WHERE true ON CONFLICT(id) DO UPDATE SET ${updates}`,
          bind: [`[${staged.join(',')}]`],
        }),
      );
      note_('text: upsert', performance.now() - t0);
      return;
    }
    const withoutRowid = way === 'stage without rowid' ? ' WITHOUT ROWID' : '';
    db.exec(`CREATE TEMP TABLE _sync_pull_typed_rows (ord INTEGER PRIMARY KEY, c0, c1, c2, c3, c4, c5, c6, c7)${withoutRowid}`);
    const t0 = performance.now();
    for (let i = 0; i < N; i += 1000)
      db.exec({
        sql: `INSERT INTO temp._sync_pull_typed_rows SELECT ?2 + j.key, ${decoded} FROM jsonb_each(jsonb(?1)) AS j`,
        bind: [`[${staged.slice(i, i + 1000).join(',')}]`, i + 1],
      });
    const t1 = performance.now();
    db.transaction(() =>
      db.exec({
        sql: `INSERT INTO typed_rows (${cols}) SELECT c0, c1, c2, c3, c4, c5, c6, c7 FROM temp._sync_pull_typed_rows WHERE ord BETWEEN ?1 AND ?2 ORDER BY ord ON CONFLICT(id) DO UPDATE SET ${updates}`,
        bind: [1, N],
      }),
    );
    const t2 = performance.now();
    db.exec({ sql: 'DELETE FROM temp._sync_pull_typed_rows WHERE ord <= ?', bind: [N] });
    const t3 = performance.now();
    note_(`${way}: stage`, t1 - t0);
    note_(`${way}: copy`, t2 - t1);
    note_(`${way}: delete`, t3 - t2);
  } finally {
    if (Number(db.selectValue('SELECT count(*) FROM typed_rows')) !== N) throw new Error(`${way}: rows missing`);
    monitor.dispose();
    db.close();
  }
}

const ways = ['text', 'stage rowid', 'stage without rowid'] as const;
for (let r = 0; r < REPEATS; r++) for (const way of r % 2 ? [...ways].reverse() : ways) run(way);
for (const [k, xs] of samples)
  console.log(`${k.padEnd(30)} median ${median(xs).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)} ms (n ${xs.length})`);
