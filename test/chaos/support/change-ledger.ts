/**
 * The chaos model's ledger of local changes, for the property "every local change either reached
 * the server or produced an event". Every committed app write on a device is recorded with the
 * row it left (null: deleted). After settling, each recorded write must be accounted for:
 * - reached the server: a committed bundle from one of the device's source ids holds that key with
 *   that row (or a delete of it), or PostgreSQL's final state holds exactly that row (absent, for a
 *   delete: e.g. a no-op push the engine elided);
 * - reported: a `conflict` or `lost` event naming its table and key reached the device's app after
 *   the write (a self-heal's dropped changes arrive as `lost` events);
 * - replaced by the app itself: a later app write on the same device changed that row while it
 *   still held the recorded value, or that value with a SET NULL column nulled by a pulled parent
 *   delete (the same key again, or a local cascade / SET NULL of it), so
 *   only the newer value had to reach the server; a later write of the same key leaving the row
 *   as it was takes over the older write too (it is accounted for with the same row);
 * - a delete of a row that only ever existed on this device: the app created it, and none of its
 *   values reached the server before the delete (the engine folds the insert and the delete into
 *   nothing; a row of the same key from another device is another row), or the device knew the
 *   server had deleted the key (its row state) and that delete is in the server's history.
 * A row counts as reached when a SET NULL foreign key column arrived null: another device deleted
 * the parent, and the FK's action applies to the pending row too.
 * Writes of a transaction that a crash rolled back are never recorded; instead their marker text
 * must not appear anywhere on the server ({@link ROLLED_BACK_MARK}).
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import type { SyncEvent } from '../../../worker/engine/index.ts';
import type { SqlDatabase } from '../../../server/database/types.ts';

/** Text written only inside transactions a crash rolls back. */
export const ROLLED_BACK_MARK = 'rolled-back';

/** A row as the app's SQLite holds it (null: no row). */
export type Row = Record<string, unknown> | null;

interface Write {
  device: string;
  step: number;
  table: string;
  key: string;
  row: Row;
  /** Ledger clock at the write: events with a later clock may account for it. */
  at: number;
  replaced: boolean;
  /** The row did not exist on the device before this write (the app created it). */
  created: boolean;
  /**
   * A delete of a key the device knew deleted on the server (its row state says so): the row it
   * removed lived only here (e.g. kept by a client-wins resolution of that server delete).
   */
  serverHadDeleted: boolean;
  /** The recorded write of the same key this one replaced (its row's history on this device). */
  previous: Write | null;
}

/** One row of the server's history: a committed bundle's row and the bundle's source. */
export interface HistoryRow {
  seq: number;
  table: string;
  key: string;
  op: number;
  payload: Record<string, unknown> | null;
  source: string;
}

const OP_DELETE = 3;

/**
 * Foreign keys with ON DELETE SET NULL in the FK schema: when another device deletes the parent,
 * the written row reaches the server with that column null (the FK's own semantics, no event).
 */
const SET_NULL_COLUMNS: Record<string, string> = { links: 'folder_id', teams: 'captain_id' };

function localRow(db: Database, table: string, key: string): Row {
  const rows = db.exec({ sql: `SELECT * FROM ${table} WHERE id = ?`, bind: [key], rowMode: 'object', returnValue: 'resultRows' });
  return rows.length ? { ...(rows[0] as object) } : null;
}

/** Same row: every local column equal as text (the FK schema's columns are all text). */
function sameRow(a: Row, b: Row): boolean {
  if (a === null || b === null) return a === b;
  return Object.keys(a).every((c) => (a[c] === null ? b[c] === null || b[c] === undefined : String(a[c]) === String(b[c] ?? '\u0000')));
}

/** `server` is the written row as it arrived, allowing a SET NULL column to have been nulled. */
function reached(table: string, written: Row, server: Row): boolean {
  if (written === null || server === null) return written === server;
  const nulled = SET_NULL_COLUMNS[table];
  return sameRow(written, server) || (nulled !== undefined && server[nulled] === null && sameRow({ ...written, [nulled]: null }, server));
}

/** The device's row state says the server deleted the key. */
function deletedOnServerNow(db: Database, table: string, key: string): boolean {
  return (
    Number(
      db.selectValue('SELECT deleted FROM _sync_row_state WHERE table_name = ? AND key_json = ?', [table, JSON.stringify({ id: key })]) ??
        0,
    ) === 1
  );
}

export class ChangeLedger {
  private clock = 0;
  private readonly writes: Write[] = [];
  private readonly events: { device: string; table: string; key: string; at: number }[] = [];
  private readonly sources = new Map<string, Set<string>>();
  /**
   * Per device and key (table/key): the latest recorded write and the row the device's own
   * actions last left there (the write's row, or what a local cascade / SET NULL made of it).
   */
  private readonly lineage = new Map<string, Map<string, { last: Write; value: Row }>>();

  get recorded(): number {
    return this.writes.length;
  }

  /** Subscribe result: records conflict/lost events and the device's source ids. */
  listener(device: string): (e: SyncEvent) => void {
    return (e) => {
      if (e.type === 'conflict') this.noteEvent(device, e.conflict.table, e.conflict.key);
      else if (e.type === 'lost') this.noteEvent(device, e.lost.table, e.lost.key);
      else if (e.type === 'status' && e.status.sourceId) this.noteSource(device, e.status.sourceId);
    };
  }

  /** A `conflict` or `lost` event naming `table`/`key` reached the app on `device`. */
  noteEvent(device: string, table: string, key: string): void {
    this.events.push({ device, table, key, at: ++this.clock });
  }

  noteSource(device: string, sourceId: string): void {
    if (!this.sources.has(device)) this.sources.set(device, new Set());
    this.sources.get(device)!.add(sourceId);
  }

  /** The rows {@link recordWrite} needs read right before and right after a write of `table`/`key` on `device`. */
  keysAround(device: string, table: string, key: string): { table: string; key: string }[] {
    const keys = new Map<string, { table: string; key: string }>([[`${table}/${key}`, { table, key }]]);
    for (const e of this.lineage.get(device)?.values() ?? [])
      keys.set(`${e.last.table}/${e.last.key}`, { table: e.last.table, key: e.last.key });
    return [...keys.values()];
  }

  /**
   * Records one committed app write from the rows of {@link keysAround} read right before and
   * right after it (`table/key` to row, null: no row), and marks earlier writes it replaced.
   */
  recordWrite(
    device: string,
    step: number,
    table: string,
    key: string,
    before: Map<string, Row>,
    after: Map<string, Row>,
    serverHadDeleted = false,
  ): void {
    this.recordGroup(device, step, [{ table, key, serverHadDeleted }], before, after);
  }

  /**
   * Records the writes of one group commit (different keys, in order) from the rows of
   * {@link keysAround} read once before and once after the whole group.
   */
  recordGroup(
    device: string,
    step: number,
    writes: readonly { table: string; key: string; serverHadDeleted?: boolean }[],
    before: Map<string, Row>,
    after: Map<string, Row>,
  ): void {
    const mine = this.lineage.get(device) ?? new Map<string, { last: Write; value: Row }>();
    this.lineage.set(device, mine);
    // Only keys whose row still held what this device's own actions left (a pull may have changed
    // others), allowing a SET NULL column a pulled parent delete nulled (the FK's own semantics:
    // the rest of the row is still the app's, and this write replaces it; seed 731120808). Judged
    // once for the group: a write of the group moves a followed row to the group's after-row, which
    // a later write of the same group must not take for a pull's change (seed 825000058).
    const held = new Set([...mine].filter(([k, e]) => reached(e.last.table, e.value, before.get(k) ?? null)).map(([k]) => k));
    for (const { table, key, serverHadDeleted = false } of writes)
      this.recordOne(device, step, table, key, mine, held, before, after, serverHadDeleted);
  }

  private recordOne(
    device: string,
    step: number,
    table: string,
    key: string,
    mine: Map<string, { last: Write; value: Row }>,
    held: Set<string>,
    before: Map<string, Row>,
    after: Map<string, Row>,
    serverHadDeleted: boolean,
  ): void {
    let previous: Write | null = null;
    for (const [k, e] of mine) {
      if (!held.has(k)) continue;
      const now = after.get(k) ?? null;
      const sameKey = e.last.table === table && e.last.key === key;
      if (sameKey) previous = e.last;
      // A write of the same key that leaves the row as it was (e.g. an UPDATE setting the captain
      // it already had) still takes over the older write: the new write holds the same row and
      // is accounted for on its own, and a later change marks only the newest write replaced.
      if (sameRow(now, e.value) && !sameKey) continue;
      e.last.replaced = true;
      e.value = now;
    }
    const created = (before.get(`${table}/${key}`) ?? null) === null;
    const w: Write = {
      device,
      step,
      table,
      key,
      row: after.get(`${table}/${key}`) ?? null,
      at: ++this.clock,
      replaced: false,
      created,
      serverHadDeleted: serverHadDeleted && (after.get(`${table}/${key}`) ?? null) === null,
      previous,
    };
    this.writes.push(w);
    mine.set(`${table}/${key}`, { last: w, value: w.row });
  }

  /**
   * Wraps one app write on `db`: `apply` runs it (and returns false when the database refused it:
   * nothing changed, nothing recorded).
   */
  write(device: string, step: number, db: Database, table: string, key: string, apply: () => boolean): void {
    const keys = this.keysAround(device, table, key);
    const read = (): Map<string, Row> => new Map(keys.map((k) => [`${k.table}/${k.key}`, localRow(db, k.table, k.key)]));
    const before = read();
    const deletedOnServer = deletedOnServerNow(db, table, key);
    if (!apply()) return;
    this.recordWrite(device, step, table, key, before, read(), deletedOnServer);
  }

  /**
   * Wraps one group of write units on `db` (group-commit.ts), each unit writing `units[i]` (one
   * key per statement): `run` applies the group synchronously and settles with whether each unit
   * committed. The writes of committed units are recorded with the rows read right before and
   * right after the group (its units write different keys).
   */
  async writeGroup(
    device: string,
    step: number,
    db: Database,
    units: readonly (readonly { table: string; key: string }[])[],
    run: () => Promise<boolean[]>,
  ): Promise<void> {
    const keys = new Map<string, { table: string; key: string }>();
    for (const w of units.flat()) for (const k of this.keysAround(device, w.table, w.key)) keys.set(`${k.table}/${k.key}`, k);
    const read = (): Map<string, Row> => new Map([...keys.values()].map((k) => [`${k.table}/${k.key}`, localRow(db, k.table, k.key)]));
    const before = read();
    const deletedOnServer = units.map((u) => u.map((w) => deletedOnServerNow(db, w.table, w.key)));
    const committed = run();
    const after = read();
    const ok = await committed;
    const writes = units.flatMap((u, i) => (ok[i] ? u.map((w, j) => ({ ...w, serverHadDeleted: deletedOnServer[i]![j] })) : []));
    this.recordGroup(device, step, writes, before, after);
  }

  /**
   * The writes no path accounts for, each as a readable line (empty: the property holds).
   * `server` is PostgreSQL's final state per table (rows with `id`).
   */
  unaccounted(history: HistoryRow[], server: Record<string, Record<string, unknown>[]>): string[] {
    const out: string[] = [];
    for (const w of this.writes) {
      if (w.replaced) continue;
      const sources = this.sources.get(w.device) ?? new Set<string>();
      const committed = history.some(
        (h) =>
          h.table === w.table &&
          h.key === w.key &&
          sources.has(h.source) &&
          (w.row === null ? h.op === OP_DELETE : h.op !== OP_DELETE && reached(w.table, w.row, h.payload)),
      );
      if (committed) continue;
      if (w.row === null && this.onlyLocal(w, history, sources)) continue;
      // The server had deleted the key as far as the device knew: the app's delete removed a row
      // that lived only here, and the server's delete is in the history (a later insert of the
      // key by another device is a new row; seed 735000647).
      if (w.serverHadDeleted && history.some((h) => h.table === w.table && h.key === w.key && h.op === OP_DELETE)) continue;
      const final = server[w.table]?.find((r) => String(r.id) === w.key) ?? null;
      if (reached(w.table, w.row, final)) continue;
      if (this.events.some((e) => e.device === w.device && e.table === w.table && e.key === w.key && e.at > w.at)) continue;
      const mine = (h: HistoryRow): string => (sources.has(h.source) ? 'this device' : h.source.slice(0, 8));
      const seen = history
        .filter((h) => h.table === w.table && h.key === w.key)
        .map((h) => `#${h.seq} op ${h.op} by ${mine(h)} ${JSON.stringify(h.payload)}`);
      out.push(
        `${w.device} step ${w.step}: ${w.table}/${w.key} ${w.row === null ? 'deleted' : JSON.stringify(w.row)}: not on the server, no conflict/lost event ` +
          `(server history of the key: ${seen.join('; ') || 'none'}; final ${JSON.stringify(final)})`,
      );
    }
    return out;
  }

  /** The deleted row was created by this device and none of its values reached the server. */
  private onlyLocal(w: Write, history: HistoryRow[], sources: Set<string>): boolean {
    for (let p = w.previous; p !== null; p = p.previous) {
      if (
        p.row !== null &&
        history.some(
          (h) =>
            h.table === p!.table && h.key === p!.key && sources.has(h.source) && h.op !== OP_DELETE && reached(p!.table, p!.row, h.payload),
        )
      )
        return false;
      if (p.created) return true;
    }
    return false;
  }
}

/** Every committed bundle row of `userId`, with its table name and the bundle's source id. */
export async function serverHistory(db: SqlDatabase, userId: string): Promise<HistoryRow[]> {
  const res = await db.query(
    `SELECT r.bundle_seq AS seq, c.table_name AS t, r.key_text AS k, r.op_code AS op, r.payload::text AS p, l.source_id AS s
       FROM sync.bundle_rows r
       JOIN sync.bundle_log l USING (user_pk, bundle_seq)
       JOIN sync.table_catalog c USING (table_id)
       JOIN sync.user_state u USING (user_pk)
      WHERE u.user_id = $1
      ORDER BY r.bundle_seq, r.row_ordinal`,
    [userId],
  );
  return (res.rows as { seq: number | string; t: string; k: string; op: number | string; p: string | null; s: string }[]).map((r) => ({
    seq: Number(r.seq),
    table: r.t,
    key: r.k,
    op: Number(r.op),
    payload: r.p === null ? null : (JSON.parse(r.p) as Record<string, unknown>),
    source: r.s,
  }));
}

/** Rolled-back writes that reached the server anyway (their marker text in any bundle row). */
export function rolledBackOnServer(history: HistoryRow[]): string[] {
  return history
    .filter((h) => h.payload !== null && JSON.stringify(h.payload).includes(ROLLED_BACK_MARK))
    .map((h) => `${h.table}/${h.key} ${JSON.stringify(h.payload)}`);
}
