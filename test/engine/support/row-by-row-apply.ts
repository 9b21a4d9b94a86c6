/**
 * The row-at-a-time bundle apply: the reference the set-based `applyPulledBundle` is tested
 * against (`pull-set-based-apply-matches-row-by-row.test.ts`). It shares the production frame and
 * finish step (`applyBundleWith`) and differs only in how the rows are written: one key at a time,
 * each looked up and written with its own statements.
 */
import { applyServerRow, readRowState } from '../../../worker/engine/apply.ts';
import type { EngineContext } from '../../../worker/engine/context.ts';
import { applyBundleWith, notePulledDeletes, noteSkipped } from '../../../worker/engine/pull.ts';
import type { BundleRowsWritten, DecodedRow } from '../../../worker/engine/pull.ts';
import type { TableModel } from '../../../worker/engine/table-config.ts';
import type { RowLostDetail } from '../../../worker/engine/types.ts';
import { selectCached } from '../../../worker/engine/statements.ts';

/** Applies one validated bundle row by row with its checkpoint, atomically; returns touched tables. */
export function applyPulledBundleRowByRow(ctx: EngineContext, seq: number, rows: DecodedRow[], thorough = false): Set<string> {
  return applyBundleWith(ctx, seq, rows, thorough, writeBundleRowsOneByOne);
}

function writeBundleRowsOneByOne(
  ctx: EngineContext,
  seq: number,
  rows: DecodedRow[],
  intents: boolean,
  lost: RowLostDetail[],
): BundleRowsWritten {
  const touched = new Set<string>();
  let later = false;
  const deleting = rows.filter(
    (r) =>
      r.op === 'DELETE' &&
      !(intents && hasLocalIntent(ctx, r.t, r.keyJson)) &&
      (readRowState(ctx, r.t, r.keyJson)?.version ?? 0) < r.version,
  );
  notePulledDeletes(ctx, seq, deleting, intents, lost);
  for (const r of rows) {
    if (intents && hasLocalIntent(ctx, r.t, r.keyJson)) {
      noteSkipped(ctx, r);
      continue;
    }
    const state = readRowState(ctx, r.t, r.keyJson);
    if (state && state.version >= r.version) {
      // Already applied (our own replay, or a re-pull), or known at a later version.
      if (state.version > r.version) later = true;
      continue;
    }
    applyServerRow(ctx, r.t, r.keyJson, r.op, r.version, r.payload);
    touched.add(r.t.table);
  }
  return { touched, later };
}

/** True when the key has a pending local intent (dirty or frozen in the outbox). */
function hasLocalIntent(ctx: EngineContext, t: TableModel, keyJson: string): boolean {
  const n = selectCached(
    ctx.db,
    `SELECT (SELECT COUNT(*) FROM _sync_dirty_rows WHERE schema_name = ?1 AND table_name = ?2 AND key_json = ?3)
          + (SELECT COUNT(*) FROM _sync_outbox_rows WHERE schema_name = ?1 AND table_name = ?2 AND key_json = ?3)`,
    [ctx.schema, t.table, keyJson],
  );
  return Number(n) > 0;
}
