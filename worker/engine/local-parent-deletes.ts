/**
 * Pulled rows whose parent this device deleted and has not pushed yet.
 *
 * Another device adds a child under parent P while this one, offline, deletes P. The pulled child
 * then has no parent locally, and the bundle failed its FK check at COMMIT on every pull, while
 * the push (often rejected for another reason) waited for that pull: a device stuck for good.
 * The child follows the parent's fate as the server will decide it when the delete lands, inside
 * the bundle's transaction, according to the foreign key's ON DELETE action (the local schema
 * mirrors the server's):
 * - CASCADE: the server will delete the child with P, so it is dropped now (`lost` event,
 *   `parent_deleted_locally`), and noted in `_sync_dropped_rows` with P as its root: if P's
 *   delete then loses a push conflict (the server keeps P), the child exists only on the server,
 *   and the conflict resolution takes P from a snapshot (`needsSnapshotToRestore`). A later
 *   pulled row under a dropped row (a grandchild, or a row moved under it) follows the same root.
 * - SET NULL: the server will clear the reference, so it is cleared now (the row is kept, and
 *   noted in `_sync_dropped_rows` like a dropped one).
 * - RESTRICT / NO ACTION / SET DEFAULT (or SET NULL on a NOT NULL column): the server will refuse
 *   P's deletion while the child exists, so the pending delete is withdrawn (`lost` event,
 *   `delete_refused`) and the engine rebuilds from a snapshot right after the pull, which brings
 *   P and the child back. A delete frozen in the outbox is left alone (its push decides).
 */
import type { EngineContext } from './context.ts';
import { foreignKeyList, foreignKeyViolations, violatedReference, walkRowsReachedByDelete } from './foreign-keys.ts';
import { appRowByRowid, lostRow } from './lost-rows.ts';
import { requireRebuild } from './metadata.ts';
import type { TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';
import type { RowLostDetail } from './types.ts';
import { selectCached, selectRowCached } from './statements.ts';
import { liveRowAbsentExpr } from './pending-payload.ts';

/** What settling did: `lost` details to emit after COMMIT, and whether a rebuild must follow. */
export interface ParentDeleteSettlement {
  lost: RowLostDetail[];
  rebuild: boolean;
}

/** True when some pending local change is a delete (only then can this pass find anything). */
export function anyPendingDelete(ctx: EngineContext): boolean {
  return (
    Number(
      selectCached(
        ctx.db,
        "SELECT EXISTS (SELECT 1 FROM _sync_dirty_rows WHERE op = 'DELETE') OR EXISTS (SELECT 1 FROM _sync_outbox_rows WHERE op = 'DELETE')",
        [],
      ),
    ) === 1
  );
}

/** A pending local delete that decides a missing parent's fate: the parent's own, or its dropped ancestor's. */
interface PendingDelete {
  where: 'dirty' | 'outbox';
  rootTable: string;
  rootKeyJson: string;
}

function ownPendingDelete(ctx: EngineContext, table: string, keyJson: string): 'dirty' | 'outbox' | null {
  const dirty = selectCached(
    ctx.db,
    "SELECT op = 'DELETE' FROM _sync_dirty_rows WHERE schema_name = ? AND table_name = ? AND key_json = ?",
    [ctx.schema, table, keyJson],
  );
  if (dirty !== undefined && dirty !== null) return Number(dirty) === 1 ? 'dirty' : null;
  const frozen = selectCached(
    ctx.db,
    "SELECT EXISTS (SELECT 1 FROM _sync_outbox_rows WHERE schema_name = ? AND table_name = ? AND key_json = ? AND op = 'DELETE')",
    [ctx.schema, table, keyJson],
  );
  return Number(frozen) === 1 ? 'outbox' : null;
}

/** The pending delete a missing parent stands for, or null when it has none. */
function pendingDelete(ctx: EngineContext, p: TableModel, keyJson: string): PendingDelete | null {
  const own = ownPendingDelete(ctx, p.table, keyJson);
  if (own) return { where: own, rootTable: p.table, rootKeyJson: keyJson };
  const root = selectRowCached(
    ctx.db,
    'SELECT root_table, root_key_json FROM _sync_dropped_rows WHERE schema_name = ? AND table_name = ? AND key_json = ?',
    [ctx.schema, p.table, keyJson],
  );
  if (!root) return null;
  const where = ownPendingDelete(ctx, String(root[0]), String(root[1]));
  return where ? { where, rootTable: String(root[0]), rootKeyJson: String(root[1]) } : null;
}

function hasIntent(ctx: EngineContext, t: TableModel, keyJson: string): boolean {
  return (
    Number(
      selectCached(
        ctx.db,
        'SELECT EXISTS (SELECT 1 FROM _sync_dirty_rows WHERE schema_name = ?1 AND table_name = ?2 AND key_json = ?3) OR EXISTS (SELECT 1 FROM _sync_outbox_rows WHERE schema_name = ?1 AND table_name = ?2 AND key_json = ?3)',
        [ctx.schema, t.table, keyJson],
      ),
    ) === 1
  );
}

/**
 * Inside a pull's apply transaction, after its rows are written: settles rows of `tables` (the
 * tables the bundle upserted into) that violate a foreign key to a parent with a pending local
 * delete. Other violations are left alone (a bad bundle still fails at COMMIT).
 */
export function settleChildrenOfLocallyDeletedParents(ctx: EngineContext, tables: Iterable<TableModel>): ParentDeleteSettlement {
  const out: ParentDeleteSettlement = { lost: [], rebuild: false };
  if (Number(ctx.db.selectValue('PRAGMA foreign_keys')) !== 1) return out;
  const withdrawn = new Set<string>();
  let scan = [...new Set(tables)];
  for (let round = 0; round < 16 && scan.length > 0; round++) {
    const next = new Set<TableModel>();
    for (const t of scan) {
      for (const [, rowid, , fkid] of foreignKeyViolations(ctx, t)) {
        if (rowid === null || rowid === undefined) continue;
        const fk = violatedReference(ctx, t, Number(rowid), Number(fkid));
        if (!fk) continue;
        const { parent: p, parentKeyJson, childKeyJson } = fk;
        if (withdrawn.has(`${p.table}\u0000${parentKeyJson}`)) {
          // Another child of a parent whose delete was just withdrawn: back with the rebuild too.
          ctx.db.exec({ sql: `DELETE FROM ${quoteIdent(t.table)} WHERE rowid = ?`, bind: [rowid as number] });
          continue;
        }
        const pending = pendingDelete(ctx, p, parentKeyJson);
        // A child with its own pending change is the settle pass's business (apply.ts).
        if (pending === null || hasIntent(ctx, t, childKeyJson)) continue;
        if (fk.onDelete === 'CASCADE') {
          ctx.db.exec({
            sql: 'INSERT OR REPLACE INTO _sync_dropped_rows(schema_name, table_name, key_json, root_table, root_key_json) VALUES (?, ?, ?, ?, ?)',
            bind: [ctx.schema, t.table, childKeyJson, pending.rootTable, pending.rootKeyJson],
          });
          out.lost.push(lostRow(t, childKeyJson, 'parent_deleted_locally', appRowByRowid(ctx, t, Number(rowid)), null));
          // The delete cascades locally: the rows under this child are noted with the same root.
          // The server takes them only if the child is still under P when P's delete lands; one
          // moved away first brings the child back with its own bundle but not them
          // (`droppedRowsTheServerKept`).
          noteRowsReachedByDelete(ctx, t, childKeyJson, pending.rootTable, pending.rootKeyJson);
          ctx.db.exec({ sql: `DELETE FROM ${quoteIdent(t.table)} WHERE rowid = ?`, bind: [rowid as number] });
          // Grandchildren of this child need no second look.
          continue;
        }
        if (fk.onDelete === 'SET NULL') {
          try {
            ctx.db.exec({
              sql: `UPDATE ${quoteIdent(t.table)} SET ${quoteIdent(fk.column)} = NULL WHERE rowid = ?`,
              bind: [rowid as number],
            });
            // Changed for the root's delete: if that delete loses, the row comes back from a snapshot.
            ctx.db.exec({
              sql: 'INSERT OR REPLACE INTO _sync_dropped_rows(schema_name, table_name, key_json, root_table, root_key_json) VALUES (?, ?, ?, ?, ?)',
              bind: [ctx.schema, t.table, childKeyJson, pending.rootTable, pending.rootKeyJson],
            });
            continue;
          } catch {
            // NOT NULL: the server's SET NULL would fail the same way, i.e. the delete is refused.
          }
        }
        if (pending.where !== 'dirty') continue;
        const root = ctx.model.byName.get(pending.rootTable);
        if (!root) continue;
        ctx.db.exec({
          sql: 'DELETE FROM _sync_dirty_rows WHERE schema_name = ? AND table_name = ? AND key_json = ?',
          bind: [ctx.schema, pending.rootTable, pending.rootKeyJson],
        });
        withdrawn.add(`${p.table}\u0000${parentKeyJson}`);
        out.lost.push(lostRow(root, pending.rootKeyJson, 'delete_refused', null, 'DELETE'));
        // The child goes until the rebuild brings it back with its parent.
        ctx.db.exec({ sql: `DELETE FROM ${quoteIdent(t.table)} WHERE rowid = ?`, bind: [rowid as number] });
        out.rebuild = true;
        next.add(t);
      }
    }
    scan = [...next];
  }
  if (out.rebuild) requireRebuild(ctx.db);
  return out;
}

/**
 * True when a pull dropped pulled children of this row while its local delete was pending: a
 * resolution that keeps the row must then take it (and them) from a snapshot.
 */
export function needsSnapshotToRestore(ctx: EngineContext, t: TableModel, keyJson: string): boolean {
  return (
    Number(
      selectCached(
        ctx.db,
        'SELECT EXISTS (SELECT 1 FROM _sync_dropped_rows WHERE schema_name = ? AND root_table = ? AND root_key_json = ?)',
        [ctx.schema, t.table, keyJson],
      ),
    ) === 1
  );
}

/**
 * Inside a snapshot rebuild, right before a pending local delete of `t`/`keyJson` is re-applied on
 * top of the snapshot: notes in `_sync_dropped_rows` (rooted at that row) every snapshot row its
 * local CASCADE will remove and every row its SET NULL will clear, recursively. The server keeps
 * them if the delete then loses a push conflict, and the resolution must then take them from a
 * snapshot ({@link needsSnapshotToRestore}) — without the note they stayed gone (chaos seed
 * 732000334).
 */
export function noteRowsUnderRebuiltDelete(ctx: EngineContext, t: TableModel, keyJson: string): void {
  noteRowsReachedByDelete(ctx, t, keyJson, t.table, keyJson);
}

/**
 * Right before deletes of `deleted` (key JSONs per table) apply locally with capture off (a pulled
 * bundle's, a push conflict resolution's): for every row their local CASCADE reaches that has a
 * pending change, notes in `_sync_dropped_rows` (rooted at that row) the rows under it. A pending
 * row need not stand where the server's row of its key stands (an insert of a key another device
 * also created, whose pulled row was skipped for it), and pulled rows applied under it then
 * hang under it here only: the server's delete does not take them, and once the pending row is
 * settled as lost nothing brings them back. {@link droppedRowsTheServerKept} then finds them
 * (absent here, live row version) and the device takes a snapshot; rows the server's delete
 * did take arrive as deletes and cost nothing (chaos seed 818000120).
 */
export function noteRowsUnderPendingRowsReachedByDelete(ctx: EngineContext, deleted: ReadonlyMap<TableModel, readonly string[]>): void {
  if (Number(ctx.db.selectValue('PRAGMA foreign_keys')) !== 1) return;
  const pending: { table: TableModel; keyJson: string }[] = [];
  walkRowsReachedByDelete(ctx, deleted, { levels: 65, actions: ['CASCADE'], versions: false }, (row) => {
    if (hasIntent(ctx, row.table, row.keyJson)) pending.push({ table: row.table, keyJson: row.keyJson });
  });
  for (const p of pending) noteRowsReachedByDelete(ctx, p.table, p.keyJson, p.table.table, p.keyJson);
}

/** Notes in `_sync_dropped_rows`, with root `rootTable`/`rootKeyJson`, every row deleting `t`/`keyJson` removes or clears, recursively. */
function noteRowsReachedByDelete(ctx: EngineContext, t: TableModel, keyJson: string, rootTable: string, rootKeyJson: string): void {
  if (Number(ctx.db.selectValue('PRAGMA foreign_keys')) !== 1) return;
  walkRowsReachedByDelete(
    ctx,
    new Map([[t, [keyJson]]]),
    // Not SET DEFAULT: the server refuses a delete that would set one (see the top of this file).
    // The bound only caps the work: the walk follows each row once.
    { levels: 65, actions: ['CASCADE', 'SET NULL'], versions: false },
    (row) => {
      ctx.db.exec({
        sql: 'INSERT OR REPLACE INTO _sync_dropped_rows(schema_name, table_name, key_json, root_table, root_key_json) VALUES (?, ?, ?, ?, ?)',
        bind: [ctx.schema, row.table.table, row.keyJson, rootTable, rootKeyJson],
      });
    },
  );
}

/** True when some row is noted in `_sync_dropped_rows` (only then can `droppedRowsTheServerKept` find anything). */
export function anyDroppedRows(ctx: EngineContext): boolean {
  return Number(selectCached(ctx.db, 'SELECT EXISTS (SELECT 1 FROM _sync_dropped_rows WHERE schema_name = ?)', [ctx.schema])) === 1;
}

/**
 * At the end of a pull (inside a transaction): rows dropped for a local delete whose root has no pending change any more
 * (its delete landed, or lost and was settled). The server's delete removed (and this pull brought
 * the removal of) every one of them still under the root then; one it kept, absent here with a
 * live row version and no change of its own, was dropped for nothing (the child above it had
 * moved away): true then, and the device takes the server's state from a snapshot. The notes of
 * such roots are done with and removed.
 */
export function droppedRowsTheServerKept(ctx: EngineContext): boolean {
  const settledRoot =
    'NOT EXISTS (SELECT 1 FROM _sync_dirty_rows d WHERE d.schema_name = x.schema_name AND d.table_name = x.root_table AND d.key_json = x.root_key_json) ' +
    'AND NOT EXISTS (SELECT 1 FROM _sync_outbox_rows o WHERE o.schema_name = x.schema_name AND o.table_name = x.root_table AND o.key_json = x.root_key_json)';
  for (const t of ctx.model.tables) {
    const kept = ctx.db.selectValue(
      'SELECT EXISTS (SELECT 1 FROM _sync_dropped_rows x JOIN _sync_row_state r ' +
        'ON r.schema_name = x.schema_name AND r.table_name = x.table_name AND r.key_json = x.key_json AND r.deleted = 0 ' +
        `WHERE x.schema_name = ?1 AND x.table_name = ?2 AND ${settledRoot} AND ${liveRowAbsentExpr(t, 'x')} ` +
        'AND NOT EXISTS (SELECT 1 FROM _sync_dirty_rows d WHERE d.schema_name = x.schema_name AND d.table_name = x.table_name AND d.key_json = x.key_json) ' +
        'AND NOT EXISTS (SELECT 1 FROM _sync_outbox_rows o WHERE o.schema_name = x.schema_name AND o.table_name = x.table_name AND o.key_json = x.key_json))',
      [ctx.schema, t.table],
    );
    if (Number(kept) === 1) return true;
  }
  ctx.db.exec({ sql: `DELETE FROM _sync_dropped_rows AS x WHERE x.schema_name = ? AND ${settledRoot}`, bind: [ctx.schema] });
  return false;
}

const referencingCache = new WeakMap<EngineContext['model'], Map<string, TableModel[]>>();

/** Synced tables that reference `t`, directly or through other tables (what a delete in `t` can reach). */
function referencingTables(ctx: EngineContext, t: TableModel): TableModel[] {
  let cache = referencingCache.get(ctx.model);
  if (!cache) referencingCache.set(ctx.model, (cache = new Map()));
  let out = cache.get(t.table);
  if (out) return out;
  const parentsOf = new Map<TableModel, Set<string>>();
  for (const c of ctx.model.tables) parentsOf.set(c, new Set(foreignKeyList(ctx, c).map((r) => String(r.table))));
  const reached = new Set<TableModel>();
  const walk = (name: string): void => {
    for (const [c, parents] of parentsOf) {
      if (parents.has(name) && !reached.has(c)) {
        reached.add(c);
        walk(c.table);
      }
    }
  };
  walk(t.table);
  out = [...reached];
  cache.set(t.table, out);
  return out;
}

function violationsIn(ctx: EngineContext, tables: TableModel[]): number {
  let n = 0;
  for (const c of tables) n += foreignKeyViolations(ctx, c).length;
  return n;
}

/**
 * Inside an apply transaction (a snapshot rebuild re-applying pending changes): deletes the row
 * unless the delete would leave a row that references it, or a row its local cascade removed,
 * dangling (a NO ACTION / RESTRICT child somewhere below): the server would refuse that delete
 * too. Returns false (nothing deleted) then.
 */
export function deleteUnlessRefused(ctx: EngineContext, t: TableModel, remove: () => void): boolean {
  const below = Number(ctx.db.selectValue('PRAGMA foreign_keys')) === 1 ? referencingTables(ctx, t) : [];
  if (below.length === 0) {
    remove();
    return true;
  }
  const before = violationsIn(ctx, below);
  ctx.db.exec('SAVEPOINT delete_unless_refused');
  remove();
  const refused = violationsIn(ctx, below) > before;
  if (refused) ctx.db.exec('ROLLBACK TO delete_unless_refused');
  ctx.db.exec('RELEASE delete_unless_refused');
  return !refused;
}
