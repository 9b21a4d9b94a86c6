/**
 * What the capture probes (`bench/probes/capture-*.ts`) share: the trigger variants they compare,
 * the engine that installs the capture triggers without ever syncing, and, for the Node ones, the
 * rotated plain-vs-variants loop and its report.
 *
 * `VARIANTS=current,a.sql,b.sql`: `current` is the engine's own capture triggers; each file is SQL
 * run after the engine opens, in place of its capture triggers of `items` (dropped first).
 */
import { readFileSync } from 'node:fs';
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { SyncEngine } from '../../worker/engine/index.ts';
import { itemsSyncTables, remoteSchema } from '../app/schema.ts';
import { median } from './stats.ts';

export interface CaptureVariant {
  name: string;
  /** SQL to run once the engine is open; undefined = the engine's own triggers. */
  sql: string | undefined;
}

const ITEMS_CAPTURE_TRIGGERS = ['ai', 'au', 'auk', 'ad'];

/**
 * The real engine on `db` with the bench's `items` table synced, never attached (no server at its
 * URL, no token, no auto-sync): it installs the capture triggers and nothing talks to a server.
 */
export function openCaptureOnlyEngine(sqlite3: Sqlite3Static, db: Database): Promise<SyncEngine> {
  return SyncEngine.open({
    sqlite3,
    db,
    remoteSchema,
    tables: itemsSyncTables.map((t) => ({ ...t })),
    serverUrl: 'http://127.0.0.1:9',
    getToken: async () => null,
    autoSync: false,
  });
}

/** The variants of a comma-separated `VARIANTS` list. */
export function captureVariants(list: string): CaptureVariant[] {
  return list
    .split(',')
    .filter(Boolean)
    .map((v) => ({
      name: v,
      sql:
        v === 'current'
          ? undefined
          : `${ITEMS_CAPTURE_TRIGGERS.map((s) => `DROP TRIGGER IF EXISTS trg_items_${s};`).join('\n')}\n${readFileSync(v, 'utf8')}`,
    }));
}

/** Milliseconds: process CPU time with `CPU=1` (the least load-sensitive number), else wall time. */
export function probeClock(): () => number {
  return process.env.CPU ? () => process.cpuUsage().user / 1000 : () => performance.now();
}

export type CaptureSample = { insert: number; update: number };

/**
 * Runs `once` for the plain table (variant null) and every variant in each repeat, in an order
 * reversed every other repeat so a slow phase of the machine hits all alike, then prints the
 * median insert and update time of each and its ratio to plain.
 */
export async function compareRotated(
  variants: CaptureVariant[],
  repeats: number,
  once: (variant: CaptureVariant | null) => Promise<CaptureSample>,
): Promise<void> {
  const plain: CaptureSample[] = [];
  const synced: CaptureSample[][] = variants.map(() => []);
  for (let r = 0; r < repeats; r++) {
    const order = [-1, ...variants.map((_, i) => i)];
    if (r % 2) order.reverse();
    for (const i of order) (i < 0 ? plain : synced[i]!).push(await once(i < 0 ? null : variants[i]!));
  }
  const m = (xs: CaptureSample[], k: keyof CaptureSample) => median(xs.map((x) => x[k]));
  for (const k of ['insert', 'update'] as const) {
    console.log(
      `${k}: plain ${m(plain, k).toFixed(1)} ms; ${variants.map((v, i) => `${v.name} ${m(synced[i]!, k).toFixed(1)} ms (${(m(synced[i]!, k) / m(plain, k)).toFixed(2)}x)`).join('; ')}`,
    );
  }
}
