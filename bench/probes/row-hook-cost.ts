/**
 * What the table monitor's row-change hook (`worker/database/table-access.ts`) costs a bulk write
 * (Node, sqlite-wasm memory VFS): 100,000 rows inserted by one statement into a table, without
 * the monitor and with it, alternating; prints the median CPU of each.
 *
 *   npx tsx bench/probes/row-hook-cost.ts [repeats=15]
 */
import { nodeSqlite } from '../lib/node-device.ts';
import { TableAccessMonitor } from '../../worker/database/table-access.ts';

const sqlite3 = await nodeSqlite();
const N = 100_000;
const REPEATS = Number(process.argv[2] ?? 15);

function run(withMonitor: boolean): number {
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  db.exec('CREATE TABLE items (id TEXT PRIMARY KEY, v INTEGER)');
  const monitor = withMonitor ? new TableAccessMonitor(sqlite3, db) : null;
  const c0 = process.cpuUsage();
  db.exec(`WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < ${N}) INSERT INTO items SELECT 'k' || x, x FROM s`);
  const c = process.cpuUsage(c0);
  monitor?.dispose();
  db.close();
  return (c.user + c.system) / 1000;
}

const cpu = { none: [] as number[], monitor: [] as number[] };
for (let r = 0; r < REPEATS; r++) {
  for (const m of r % 2 ? [true, false] : [false, true]) cpu[m ? 'monitor' : 'none'].push(run(m));
}
for (const [k, xs] of Object.entries(cpu))
  console.log(`${k.padEnd(8)} CPU median ${xs.sort((a, b) => a - b)[xs.length >> 1]!.toFixed(1)} ms per ${N} rows`);
