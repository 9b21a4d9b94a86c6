/**
 * Change capture: AFTER INSERT/UPDATE/DELETE triggers on every synced table write one coalesced
 * `_sync_dirty_rows` row per key: key, op, base version and capture order, never the row's
 * values (a pending upsert stands for the live row; see pending-payload.ts). Writes the engine
 * applies itself (replay, pull, snapshot, conflict resolution) are not captured: the triggers
 * consult `_sync_capture_enabled()`, a connection-local SQL function whose answer lives in
 * JavaScript memory. Unlike a persistent `apply_mode` row, nothing durable can ever leave capture
 * switched off after a crash.
 *
 * A write unit of several statements (group-commit.ts) collects its captures instead: the
 * triggers hand each captured key to `_sync_capture_collect()`, which keeps it in memory, and the
 * unit writes them all with one set-based statement just before it ends, inside its own
 * transaction or savepoint ({@link collectUnitCaptures}). Capture stays atomic with the app's
 * write (a unit rolled back, or a crash before COMMIT, loses both) and in write order; the keys
 * of a unit that fails are dropped with its rows. Everything else (single statements, interactive
 * transactions, writes on the raw connection) is captured by the trigger directly, as before.
 *
 * Local payload format (JSON text, built from the live row when a change is frozen): lowercase
 * column names; INTEGER values as decimal strings (exact int64, never through a JS number); REAL
 * values as JSON numbers (SQLite renders them shortest-round-trip); BLOB values as lowercase hex;
 * everything else as is.
 */
import type { Database, Sqlite3Static, WasmPointer } from '@sqlite.org/sqlite-wasm';
import type { ColumnModel, SchemaModel, TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';
import { SyncError } from './errors.ts';

/** Name of the SQL function the triggers consult: 0 = not captured, 1 = capture directly, 2 = collect. */
const CAPTURE_FUNCTION = '_sync_capture_enabled';
/** Name of the SQL function that collects captured keys (see {@link collectUnitCaptures}). */
const COLLECT_FUNCTION = '_sync_capture_collect';
/** Name of the SQL function that gives a captured key its ordinal (see {@link CaptureSwitch.lastOrdinal}). */
const ORDINAL_FUNCTION = '_sync_capture_ordinal';
/** Name of the SQL function that notes and answers the rows a REPLACE may remove (see {@link replacedRows}). */
const REPLACING_FUNCTION = '_sync_capture_replacing';

/**
 * The captures of the unit collecting now, already as the JSON text `FLUSH_COLLECTED` reads:
 * runs of one table and op, `[<tag>,<keys before the run>,[<key_json as JSON string>,...]]`,
 * built from the arguments' UTF-8 bytes without decoding them (a key costs a copy, not a JS
 * string). A key's place in the unit (its ordinal less the block's base) is the count before
 * its run plus its index in the run, so the flush numbers keys without a window function.
 */
class CollectedCaptures {
  bytes = new Uint8Array(4096);
  length = 0;
  /** How many keys were collected (the ordinals the flush takes). */
  count = 0;
  /** The open run's tag (UTF-8); empty before the first run. */
  tag = new Uint8Array(0);
  /**
   * Set by the preupdate hook when a key is one it leaves to the triggers (a BLOB in a TEXT key,
   * a UUID key that is not 16 bytes): the unit must run again with them, for their exact answer.
   */
  needsTriggers = false;

  /** Appends a key already quoted as a JSON string (the triggers' `json_quote(key_json)`). */
  append(heap: Uint8Array, tagAt: number, tagLength: number, keyAt: number, keyLength: number): void {
    this.next(heap, tagAt, tagLength, keyLength);
    this.bytes.set(heap.subarray(keyAt, keyAt + keyLength), this.length);
    this.length += keyLength;
  }

  /** Appends a key column's value as a JSON string: a TEXT escaped as JSON needs, a BLOB as its lowercase hex. */
  appendValue(tag: Uint8Array, heap: Uint8Array, at: number, n: number, hex: boolean): void {
    this.next(tag, 0, tag.length, 6 * n + 2);
    const { bytes } = this;
    let i = this.length;
    bytes[i++] = QUOTE;
    for (let j = at; j < at + n; j++) {
      const c = heap[j]!;
      if (!hex && c >= 0x20) {
        if (c === QUOTE || c === BACKSLASH) bytes[i++] = BACKSLASH;
        bytes[i++] = c;
      } else {
        // A BLOB's byte as two hex digits; a control character as \u00XX.
        if (!hex) bytes.set(ESCAPE, (i += 4) - 4);
        bytes[i++] = HEX[c >> 4]!;
        bytes[i++] = HEX[c & 15]!;
      }
    }
    bytes[i++] = QUOTE;
    this.length = i;
  }

  /** The JSON text of everything collected; undefined when nothing was. */
  text(): string | undefined {
    if (this.tag.length === 0) return undefined;
    this.put([CLOSE, CLOSE, CLOSE]);
    return new TextDecoder().decode(this.bytes.subarray(0, this.length));
  }

  /** Counts a key of the run `tag` and makes room for it (`room` bytes): a comma, or a new run. */
  private next(source: Uint8Array, tagAt: number, tagLength: number, room: number): void {
    // Room for the key and, opening a run, `]],[<tag>,<count>,[` (a count has at most 16 digits).
    this.reserve(tagLength + room + 32);
    const { bytes, tag } = this;
    let same = tag.length === tagLength;
    for (let i = 0; same && i < tagLength; i++) same = tag[i] === source[tagAt + i];
    if (same) {
      bytes[this.length++] = COMMA;
    } else {
      // Closes the open run, opens `[<tag>,<count>,[` (the first run opens the outer array too).
      if (tag.length > 0) this.put([CLOSE, CLOSE, COMMA]);
      else bytes[this.length++] = OPEN;
      bytes[this.length++] = OPEN;
      this.tag = source.slice(tagAt, tagAt + tagLength);
      bytes.set(this.tag, this.length);
      this.length += tagLength;
      this.put([COMMA, ...ASCII.encode(String(this.count)), COMMA, OPEN]);
    }
    this.count++;
  }

  private put(chars: readonly number[]): void {
    this.reserve(chars.length);
    for (const c of chars) this.bytes[this.length++] = c;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

const ASCII = new TextEncoder();
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c; // ,
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const HEX = ASCII.encode('0123456789abcdef');
const ESCAPE = ASCII.encode('\\u00');

interface CaptureSwitch {
  suppressed: number;
  /** The captures of the write unit collecting now; undefined: none is. */
  collected: CollectedCaptures | undefined;
  /**
   * Whether this connection's triggers are this version's (`installTriggers` ran on it): only those
   * hand keys to a collecting unit. Triggers an earlier version left in the file (the database
   * opened without sync, so no engine re-created them) capture only when told 1, so no unit may
   * collect on their connection: its changes would be captured by nobody.
   */
  triggersCollect: boolean;
  /**
   * The capture order: the last `dirty_ordinal` handed out on this connection, at least the
   * largest stored in `_sync_dirty_rows`, `_sync_outbox_rows` and `_sync_held_changes` (read by
   * {@link refreshCaptureOrdinal} when the connection gets its functions, after the metadata is
   * installed, and after the engine stores ordinals above it). `_sync_capture_ordinal()` answers
   * the next one. `_sync_dirty_rows` is clustered on the key (layout 5), so an ordinal index or
   * a rowid would be a second B-tree to write per capture. Only this connection writes the file
   * (the runtime owns it), so no one else can store a larger ordinal meanwhile; an ordinal taken
   * by a statement or transaction that rolls back is a gap, which order does not mind.
   */
  lastOrdinal: number;
  /**
   * The synced tables as the preupdate hook sees them (set with the triggers): a unit collecting
   * without triggers ({@link collectUnitCaptures}) encodes the keys of these tables' rows.
   */
  hooked: readonly HookedTable[];
  /** The names of this version's capture triggers on the connection, as a JSON array. */
  ownTriggers: string;
  /**
   * The rows the row being written may remove by REPLACE, noted by its BEFORE trigger: its
   * table's tag, its key_json, and the key_json array of the other rows that hold one of its
   * values of a secondary UNIQUE index. Each BEFORE trigger of such a table overwrites it.
   */
  replacing: { readonly tag: string; readonly key: string; readonly rows: string } | undefined;
}

/** A synced table as the preupdate hook reads its rows. */
interface HookedTable {
  /** Its name, lowercase UTF-8 (SQLite's table names match case-insensitively). */
  readonly name: Uint8Array;
  /** The key column's index among the table's columns (`pragma_table_xinfo`'s cid). */
  readonly keyColumn: number;
  readonly uuidAsBlob: boolean;
  /** Run tags: `"<schema>","<table>","U"|"D","<key wire name>"`. */
  readonly upsert: Uint8Array;
  readonly delete: Uint8Array;
}

// One switch per database handle, shared by every engine instance opened over that handle (an
// engine re-opened after a simulated crash must see the same state the triggers see).
const switches = new WeakMap<Database, CaptureSwitch>();

function captureSwitch(db: Database): CaptureSwitch {
  let sw = switches.get(db);
  if (!sw)
    switches.set(
      db,
      (sw = {
        suppressed: 0,
        collected: undefined,
        triggersCollect: false,
        lastOrdinal: 0,
        hooked: [],
        ownTriggers: '[]',
        replacing: undefined,
      }),
    );
  return sw;
}
interface CaptureFunctions {
  readonly enabled: WasmPointer;
  readonly collect: WasmPointer;
  readonly ordinal: WasmPointer;
  /** The preupdate hook of a unit collecting without triggers. */
  readonly preupdate: WasmPointer;
  /** The switches of this module's connections by connection pointer (pointers of two modules may be equal). */
  readonly switches: Map<number, CaptureSwitch>;
}
const installedFunctions = new WeakMap<Sqlite3Static, CaptureFunctions>();

const SQLITE_DELETE = 9;
const SQLITE_INSERT = 18;
const SQLITE_TEXT = 3;
const SQLITE_BLOB = 4;
const MAIN = ASCII.encode('main');

/** Whether the NUL-terminated string at `at` is the lowercase `s`, ASCII case ignored (as SQLite names match). */
function isCString(heap: Uint8Array, at: number, s: Uint8Array): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = heap[at + i]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== s[i]) return false;
  }
  return heap[at + s.length] === 0;
}

/**
 * The two SQL functions as wasm functions of our own, installed once per sqlite3 module. The
 * usual JS function wrapper converts every argument and the result on each call, which cost
 * more than the rest of the collection (Node: 1.8 vs 0.8 us a captured row); these read their
 * arguments straight from wasm memory.
 *
 * `_sync_capture_collect(tag, quoted key_json, ...)` appends the (tag, key) pairs, in order, to
 * the collecting unit; it answers 1 (write it directly) when no unit is collecting, which a
 * trigger only asks while one is.
 */
function captureFunctions(sqlite3: Sqlite3Static): CaptureFunctions {
  let fns = installedFunctions.get(sqlite3);
  if (fns !== undefined) return fns;
  const { wasm } = sqlite3;
  const x = wasm.exports as Record<string, (...args: number[]) => number>;
  const ptrSize = (wasm as unknown as { ptr: { size: number } }).ptr.size;
  const switches = new Map<number, CaptureSwitch>();
  const switchOf = (ctx: number) => switches.get(x.sqlite3_context_db_handle!(ctx));
  const enabled = wasm.installFunction('v(pip)', (ctx: number) => {
    const sw = switchOf(ctx);
    x.sqlite3_result_int!(ctx, !sw || sw.suppressed > 0 ? 0 : sw.collected ? 2 : 1);
  });
  const collect = wasm.installFunction('v(pip)', (ctx: number, argc: number, argv: number) => {
    const collected = switchOf(ctx)?.collected;
    if (collected) {
      const heap = wasm.heap8u();
      for (let i = 0; i + 1 < argc; i += 2) {
        const tag = Number(wasm.peekPtr(argv + i * ptrSize));
        const key = Number(wasm.peekPtr(argv + (i + 1) * ptrSize));
        // _text before _bytes, as SQLite asks (the conversion may change the length).
        const tagAt = x.sqlite3_value_text!(tag);
        const keyAt = x.sqlite3_value_text!(key);
        collected.append(heap, tagAt, x.sqlite3_value_bytes!(tag), keyAt, x.sqlite3_value_bytes!(key));
      }
    }
    x.sqlite3_result_int!(ctx, collected ? 0 : 1);
  });
  const ordinal = wasm.installFunction('v(pip)', (ctx: number) => {
    const sw = switchOf(ctx);
    if (!sw) return x.sqlite3_result_null!(ctx);
    const next = ++sw.lastOrdinal;
    // Integral either way (the column's INTEGER affinity stores an integral REAL as an integer).
    if (next <= 0x7fffffff) x.sqlite3_result_int!(ctx, next);
    else x.sqlite3_result_double!(ctx, next);
  });
  // sqlite3_preupdate_old/_new write the value's pointer here (the hook never runs re-entrantly).
  const out = wasm.alloc(ptrSize) as unknown as number;
  // Appends the old or new key of the row being changed to the run `tag`. A TEXT in a TEXT key,
  // 16 bytes in a UUID key; anything else the triggers refuse (or JSON cannot hold): the unit
  // runs again with them.
  const appendKey = (collected: CollectedCaptures, db: number, t: HookedTable, tag: Uint8Array, old: boolean): void => {
    const rc = (old ? x.sqlite3_preupdate_old! : x.sqlite3_preupdate_new!)(db, t.keyColumn, out);
    const value = Number(wasm.peekPtr(out));
    const type = rc === 0 ? x.sqlite3_value_type!(value) : 0;
    const hex = type === SQLITE_BLOB && t.uuidAsBlob;
    if (hex ? x.sqlite3_value_bytes!(value) !== 16 : type !== SQLITE_TEXT || t.uuidAsBlob) {
      collected.needsTriggers = true;
      return;
    }
    const at = hex ? x.sqlite3_value_blob!(value) : x.sqlite3_value_text!(value);
    collected.appendValue(tag, wasm.heap8u(), at, x.sqlite3_value_bytes!(value), hex);
  };
  const preupdate = wasm.installFunction('v(ppippjj)', (_arg: number, db: number, op: number, zDb: number, zTable: number) => {
    const sw = switches.get(db);
    const collected = sw?.collected;
    const heap = wasm.heap8u();
    const t = collected && isCString(heap, zDb, MAIN) ? sw!.hooked.find((h) => isCString(heap, zTable, h.name)) : undefined;
    if (!t || collected!.needsTriggers) return;
    // An update (an upsert's, an FK action's) goes as a delete of the old key, then an upsert of
    // the new: the flush leaves of the two the one change the update triggers record.
    if (op !== SQLITE_INSERT) appendKey(collected!, db, t, t.delete, true);
    if (op !== SQLITE_DELETE) appendKey(collected!, db, t, t.upsert, false);
  });
  fns = { enabled, collect, ordinal, preupdate, switches };
  installedFunctions.set(sqlite3, fns);
  return fns;
}

/**
 * Registers `_sync_capture_enabled()` and `_sync_capture_collect()` on the connection. Safe to
 * call repeatedly. The runtime may call it right after opening the database, before the engine,
 * so app writes that happen before `SyncEngine.open` (migrations, seed data) find the functions
 * their triggers need.
 */
export function installCaptureFunction(sqlite3: Sqlite3Static, db: Database): void {
  const sw = captureSwitch(db);
  const { capi } = sqlite3;
  const fns = captureFunctions(sqlite3);
  fns.switches.set(Number(db.pointer), sw);
  for (const [name, arity, fn] of [
    [CAPTURE_FUNCTION, 0, fns.enabled],
    [COLLECT_FUNCTION, -1, fns.collect],
    [ORDINAL_FUNCTION, 0, fns.ordinal],
  ] as const) {
    // Not deterministic; innocuous, so that triggers may call them when the app hardens the
    // connection with trusted_schema=OFF.
    const flags = (capi.SQLITE_UTF8 | capi.SQLITE_INNOCUOUS) as typeof capi.SQLITE_UTF8;
    const rc = capi.sqlite3_create_function_v2(db.pointer!, name, arity, flags, 0, fn, 0, 0, 0);
    if (rc !== 0) throw new Error(`could not register ${name}: ${capi.sqlite3_errstr(rc)}`);
  }
  // (tag, key, rows): notes the rows (answers 0); (tag, key): the rows noted for that row, or NULL.
  db.createFunction({
    name: REPLACING_FUNCTION,
    arity: -1,
    innocuous: true,
    xFunc: (_ctx: WasmPointer, tag: unknown, key: unknown, rows?: unknown) => {
      if (rows !== undefined) {
        sw.replacing = { tag: String(tag), key: String(key), rows: String(rows) };
        return 0;
      }
      const noted = sw.replacing;
      return noted && noted.tag === tag && noted.key === key ? noted.rows : null;
    },
  });
  refreshCaptureOrdinal(db);
}

/**
 * Sets the connection's capture order ({@link CaptureSwitch.lastOrdinal}) to the largest ordinal
 * stored (a pass over the three tables, which index no ordinal). Call it after the metadata
 * changes other than through the capture function in a way that may store ordinals above it.
 */
export function refreshCaptureOrdinal(db: Database): void {
  const tables = ['_sync_dirty_rows', '_sync_outbox_rows', '_sync_held_changes'];
  const present = Number(
    db.selectValue(`SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name IN (${tables.map(sqlString).join(', ')})`),
  );
  // No metadata yet (or not all of it): nothing stored, and the engine refreshes once it installs the tables.
  if (present < tables.length) return;
  const stored = db.selectValue(
    `SELECT MAX(m) FROM (${tables.map((t) => `SELECT MAX(dirty_ordinal) AS m FROM ${t}`).join(' UNION ALL ')})`,
  );
  // Exact, not raised: every ordinal handed out that still counts is stored (a collected unit
  // takes its block as it writes), so anything above the largest stored is free again.
  captureSwitch(db).lastOrdinal = stored === undefined || stored === null ? 0 : Number(stored);
}

/**
 * Writes collected captures (a JSON array of runs `[schema, table, 'U' | 'D', wire, count before,
 * [key, ...]]`) in their order, exactly as the triggers' own upserts would have one by one: a
 * new key gets the next ordinal (?2 plus its place: the flush takes a block of the connection's
 * ordinals), a pending one keeps its first; an upsert records UPDATE of a live row, else INSERT.
 * A key is its `key_json` (collected by the triggers: `wire` null) or the key column's value
 * (collected by the preupdate hook: `wire` names the key). Each run's names are read once (the
 * materialized CTE), not once per key.
 */
const FLUSH_COLLECTED =
  'WITH r AS MATERIALIZED (SELECT key AS i, value ->> 0 AS s, value ->> 1 AS t, value ->> 2 AS o, value ->> 3 AS w, value ->> 4 AS n, value -> 5 AS ks FROM json_each(?1)), ' +
  'c AS (SELECT r.i, r.s, r.t, r.o, r.n + k.key + 1 AS place, CASE WHEN r.w IS NULL THEN k.value ELSE json_object(r.w, k.value) END AS key_json ' +
  'FROM r JOIN json_each(r.ks) k) ' +
  'INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
  "SELECT c.s, c.t, c.key_json, CASE WHEN c.o = 'D' THEN 'DELETE' WHEN rs.deleted = 0 THEN 'UPDATE' ELSE 'INSERT' END, " +
  'COALESCE(rs.row_version, 0), NULL, ?2 + c.place ' +
  'FROM c LEFT JOIN _sync_row_state rs ON rs.schema_name = c.s AND rs.table_name = c.t AND rs.key_json = c.key_json ' +
  'WHERE true ORDER BY c.place ' +
  'ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET op = excluded.op, payload = NULL ' +
  'WHERE op IS NOT excluded.op OR payload IS NOT NULL';

/** The captures one write unit collects (see {@link collectUnitCaptures}). */
export interface UnitCaptures {
  /**
   * Writes what was collected into `_sync_dirty_rows`, in capture order, and stops collecting.
   * Call it inside the unit's transaction or savepoint, after its last statement.
   */
  flush(): void;
  /** Stops collecting and drops whatever was not flushed (the unit is being rolled back). */
  end(): void;
  /**
   * True when a unit collecting without triggers met a key it leaves to them (one they refuse,
   * or one JSON cannot hold): roll the unit back and run it again with
   * `collectUnitCaptures(…, { triggers: true })`. Check it after each statement.
   */
  readonly needsTriggers: boolean;
}

/**
 * Units of at least this many INSERT statements collect without the capture triggers: the
 * preupdate hook hands the keys over instead. Firing a trigger costs a row its sub-program and
 * the statement journal SQLite gives every statement that fires one (~0.8 us, BENCHMARKS.md
 * "Capture profiled"); switching the triggers off expires the connection's prepared statements
 * (each is compiled again at its next use, ~0.1 ms), which pays only for many rows. Updates keep
 * the triggers: their WHEN skips a row already pending as is before anything is collected, and
 * the hook would unpack the old and the new record of every row to compare their keys (Node:
 * a 10,000-row update unit 1.30x plain with the triggers, 1.44x without).
 */
const TRIGGERLESS_MIN_STATEMENTS = 1000;

/** `INSERT` or `REPLACE` first, after any whitespace and comments. */
const INSERT_STATEMENT = /^(?:\s|--[^\n]*\n|\/\*[^]*?\*\/)*(?:insert|replace)\b/i;

/** Whether every statement of a unit inserts (one test per distinct SQL text in a row). */
function allInserts(statements: readonly { readonly sql: string }[]): boolean {
  let last: string | undefined;
  for (const { sql } of statements) {
    if (sql === last) continue;
    if (typeof sql !== 'string' || !INSERT_STATEMENT.test(sql)) return false;
    last = sql;
  }
  return true;
}

/**
 * Starts collecting the captures of one write unit (its `statements`) on `db`: until `flush` or
 * `end`, captured keys go to memory instead of `_sync_dirty_rows`. A large unit of inserts
 * collects them with the capture triggers switched off, through the preupdate hook, when every
 * trigger of the main schema is a capture trigger (the setting is the connection's: an app
 * trigger must keep firing); else, or with `triggers`, the triggers collect. Undefined when the
 * connection has no capture function (no synced tables), or when something already collects or
 * suppresses capture. Nothing else may write on the connection until then: the unit runs
 * synchronously.
 */
export function collectUnitCaptures(
  sqlite3: Sqlite3Static,
  db: Database,
  statements: readonly { readonly sql: string }[],
  options: { triggers?: boolean } = {},
): UnitCaptures | undefined {
  const sw = switches.get(db);
  if (!sw || !sw.triggersCollect || sw.collected || sw.suppressed > 0) return undefined;
  const collected = new CollectedCaptures();
  const triggerless =
    !options.triggers && statements.length >= TRIGGERLESS_MIN_STATEMENTS && sw.hooked.length > 0 && allInserts(statements)
      ? switchTriggersOff(sqlite3, db, sw.ownTriggers)
      : undefined;
  const dbPointer = Number(db.pointer);
  const exports = sqlite3.wasm.exports as unknown as { sqlite3_preupdate_hook(db: number, hook: number, arg: number): number };
  if (triggerless) exports.sqlite3_preupdate_hook(dbPointer, Number(captureFunctions(sqlite3).preupdate), 0);
  sw.collected = collected;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    if (sw.collected === collected) sw.collected = undefined;
    if (!triggerless) return;
    exports.sqlite3_preupdate_hook(dbPointer, 0, 0);
    triggerless();
  };
  return {
    flush() {
      end();
      if (collected.needsTriggers) throw new Error('flush of a unit that must run again with its capture triggers');
      const text = collected.text();
      if (text === undefined) return;
      const base = sw.lastOrdinal;
      sw.lastOrdinal += collected.count;
      db.exec({ sql: FLUSH_COLLECTED, bind: [text, base] });
    },
    end,
    get needsTriggers() {
      return collected.needsTriggers;
    },
  };
}

/**
 * Switches the connection's triggers off when every trigger of the main schema is one of
 * `ownTriggers` (JSON array of names); answers the function that switches them on again, or
 * undefined (nothing switched: an app trigger, or the app already switched them off). Nothing
 * observable changes but the capture triggers: TEMP triggers still fire (SQLite keeps them with
 * the setting off), and FK actions are no triggers.
 */
function switchTriggersOff(sqlite3: Sqlite3Static, db: Database, ownTriggers: string): (() => void) | undefined {
  const others = db.selectValue(
    "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name NOT IN (SELECT value FROM json_each(?)))",
    [ownTriggers],
  );
  if (Number(others) !== 0) return undefined;
  const { capi, wasm } = sqlite3;
  const stack = wasm.pstack.pointer;
  let on: number;
  try {
    const out = wasm.pstack.alloc(4);
    // -1: only read the setting (an app that switched triggers off keeps them off).
    if (capi.sqlite3_db_config(db, capi.SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, out) !== 0) return undefined;
    on = Number(wasm.peek32(out));
  } finally {
    wasm.pstack.restore(stack);
  }
  if (on !== 1 || capi.sqlite3_db_config(db, capi.SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, 0) !== 0) return undefined;
  return () => {
    capi.sqlite3_db_config(db, capi.SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, 0);
  };
}

/**
 * Runs `fn` synchronously inside one transaction with capture suppressed and FKs deferred. On any
 * throw the transaction rolls back and nothing it wrote stays. Never pass an async function: the
 * runtime's group commit interleaves only between synchronous transactions.
 */
export function applyTransaction<T>(db: Database, fn: () => T): T {
  const sw = switches.get(db);
  if (!sw) throw new Error('capture function not installed on this database');
  sw.suppressed++;
  try {
    return db.transaction(() => {
      db.exec('PRAGMA defer_foreign_keys = ON');
      return fn();
    });
  } catch (e) {
    if (e instanceof SyncError) throw e;
    // SQLite refused (e.g. a deferred foreign key failed at COMMIT): already rolled back.
    throw new SyncError('apply_failed', `local apply rolled back: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    sw.suppressed--;
  }
}

/** Runs `fn` with capture suppressed but no transaction of its own (tests mapping `apply_mode`). */
export function withCaptureSuppressed<T>(db: Database, fn: () => T): T {
  const sw = switches.get(db);
  if (!sw) throw new Error('capture function not installed on this database');
  sw.suppressed++;
  try {
    return fn();
  } finally {
    sw.suppressed--;
  }
}

/**
 * Changes handed back to the dirty set (a requeued outbox, changes the self-heal held) were
 * captured before anything pending now, so they go back before it: ordinal `offset + k` for
 * k in 1..highest, all below the lowest pending ordinal. Capture hands out ordinals above every
 * stored one (`_sync_capture_ordinal`), so an ordinal is never reused. (A pass over the dirty
 * rows: no index on the ordinal, and this runs once per give-back.)
 */
export function ordinalOffsetBeforePending(db: Database, highest: number): number {
  const lowest = db.selectValue('SELECT MIN(dirty_ordinal) FROM _sync_dirty_rows');
  return (lowest === undefined || lowest === null ? 1 : Number(lowest)) - Math.max(0, highest) - 1;
}

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** JSON value expression of one column of the row alias `ref` (NEW, OLD or a table alias). */
function columnJsonExpr(ref: string, c: ColumnModel): string {
  const col = `${ref}.${quoteIdent(c.name)}`;
  switch (c.family) {
    case 'integer':
    case 'boolean':
      return `CASE WHEN typeof(${col}) = 'integer' THEN CAST(${col} AS TEXT) ELSE ${col} END`;
    case 'blob':
      return `CASE WHEN ${col} IS NULL THEN NULL ELSE lower(hex(${col})) END`;
    case 'uuid':
      return c.uuidAsBlob ? `CASE WHEN ${col} IS NULL THEN NULL ELSE lower(hex(${col})) END` : col;
    default:
      return col;
  }
}

/** `key_json` expression: `{"<key>":"<text key or lowercase hex of a BLOB key>"}`. */
export function keyJsonExpr(ref: string, t: TableModel): string {
  return keyJsonOfKeyValueExpr(t, `${ref}.${quoteIdent(t.key.name)}`);
}

/** The `key_json` of the row of `t` whose key is `value` (SQL): its key column, or a column referencing it. */
export function keyJsonOfKeyValueExpr(t: TableModel, value: string): string {
  return `json_object(${sqlString(t.key.wireName)}, ${t.key.uuidAsBlob ? `lower(hex(${value}))` : value})`;
}

/** The key column's stored value of `t` from the `key_json` of row alias `d` (the inverse of `keyJsonExpr`). */
export function keyValueOfKeyJson(t: TableModel, d: string): string {
  const value = `json_extract(${d}.key_json, ${sqlString(`$.${t.key.wireName}`)})`;
  return t.key.uuidAsBlob ? `unhex(${value})` : value;
}

/** Payload expression: `json_object` over every column. */
export function payloadJsonExpr(ref: string, t: TableModel): string {
  return `json_object(${t.columns.map((c) => `${sqlString(c.wireName)}, ${columnJsonExpr(ref, c)}`).join(', ')})`;
}

/**
 * One `_sync_row_state` lookup for both the op and the base version: a LEFT JOIN from a one-row
 * source instead of two scalar subqueries that each searched the same key.
 */
function withRowState(schema: string, t: TableModel, key: string): string {
  return (
    'FROM (SELECT 1) LEFT JOIN _sync_row_state rs ' +
    `ON rs.schema_name = ${sqlString(schema)} AND rs.table_name = ${sqlString(t.table)} AND rs.key_json = ${key}`
  );
}

/** The op an upsert of a key records, from its row state `rs`: UPDATE of a live row, else INSERT. */
const UPSERT_OP = "CASE WHEN rs.deleted = 0 THEN 'UPDATE' ELSE 'INSERT' END";

/**
 * The dirty-row upsert for an insert or update of the row `ref`. No payload: a pending upsert
 * stands for the live row (pending-payload.ts), so an update of a key that is already pending
 * with the same op writes nothing (the DO UPDATE's WHERE); a stored payload is cleared, the live
 * row being newer than it. The ordinal is the connection's next (capture order); a coalesced key
 * keeps its first.
 */
function upsertDirty(schema: string, t: TableModel, ref: string): string {
  const key = keyJsonExpr(ref, t);
  return (
    'INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
    `SELECT ${sqlString(schema)}, ${sqlString(t.table)}, ${key}, ` +
    `${UPSERT_OP}, COALESCE(rs.row_version, 0), NULL, ${ORDINAL_FUNCTION}() ` +
    `${withRowState(schema, t, key)} ` +
    'WHERE true ' +
    'ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET op = excluded.op, payload = NULL ' +
    'WHERE op IS NOT excluded.op OR payload IS NOT NULL'
  );
}

/**
 * WHEN condition of the update trigger: false when the key is already pending as the upsert the
 * trigger would record (same op, payload NULL), i.e. exactly when `upsertDirty`'s DO UPDATE would
 * write nothing. Checked before the upsert runs because an update of a pending row (a bulk update
 * of rows not pushed yet) is the common case: one key seek instead of the whole INSERT with its
 * conflict handling (Node: a 10,000-row update unit's CPU 1.78x plain -> 1.31x). Also checked
 * before collecting: it cannot see keys a unit collected but has not flushed, but the last
 * change collected for a row that is being updated is an upsert, which a repeat leaves as is.
 */
function notPendingAsIs(schema: string, t: TableModel, ref: string): string {
  return (
    'NOT EXISTS (SELECT 1 FROM _sync_dirty_rows d LEFT JOIN _sync_row_state rs ' +
    'ON rs.schema_name = d.schema_name AND rs.table_name = d.table_name AND rs.key_json = d.key_json ' +
    `WHERE d.schema_name = ${sqlString(schema)} AND d.table_name = ${sqlString(t.table)} AND d.key_json = ${keyJsonExpr(ref, t)} ` +
    `AND d.op = ${UPSERT_OP} AND d.payload IS NULL)`
  );
}

/** The dirty-row upsert recording a delete of the row `ref`. */
function deleteDirty(schema: string, t: TableModel, ref: string): string {
  const key = keyJsonExpr(ref, t);
  return (
    'INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
    `SELECT ${sqlString(schema)}, ${sqlString(t.table)}, ${key}, 'DELETE', COALESCE(rs.row_version, 0), NULL, ${ORDINAL_FUNCTION}() ` +
    `${withRowState(schema, t, key)} ` +
    'WHERE true ' +
    "ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET op = 'DELETE', payload = NULL"
  );
}

/**
 * With capture off (the engine's own writes): a delete of a row with a pending upsert keeps the
 * row's last image as the change's payload, for the `lost` event that reports it (apply.ts).
 */
function keepImageOfDeleted(schema: string, t: TableModel): string {
  return (
    `UPDATE _sync_dirty_rows SET payload = ${payloadJsonExpr('OLD', t)} ` +
    `WHERE schema_name = ${sqlString(schema)} AND table_name = ${sqlString(t.table)} AND key_json = ${keyJsonExpr('OLD', t)} ` +
    "AND op <> 'DELETE' AND payload IS NULL"
  );
}

/**
 * WHEN condition of a capture trigger: true when the trigger must write the dirty row itself.
 * While a unit collects, the keys (`U`: upsert of row `ref`, `D`: delete) go to memory instead,
 * in order, and the trigger body does not run; with capture suppressed nothing happens (and no
 * key is computed: the engine's own writes pay only the one call). `unless`, when given, must
 * hold for anything to be captured, whether written or collected.
 */
function captureWhen(
  schema: string,
  t: TableModel,
  changes: ReadonlyArray<readonly ['U' | 'D', string]>,
  unless = 'true',
  replaced?: string,
): string {
  const tag = (op: string) => sqlString(JSON.stringify([schema, t.table, op, null]).slice(1, -1));
  // The key as a JSON string (`|| ''` drops the JSON subtype, else json_quote would pass it as is).
  const pairs = changes.map(([op, ref]) => `${tag(op)}, json_quote(${keyJsonExpr(ref, t)} || '')`);
  // CASEs, not ANDs: SQLite evaluates both sides of an AND it needs as a value, and may evaluate
  // the right one first. Rows a REPLACE removed go first (they were removed before the row was
  // written); the count is never < 0.
  const own = `${COLLECT_FUNCTION}(${pairs.join(', ')}) = 1`;
  const collect = replaced
    ? `CASE WHEN (SELECT count(${COLLECT_FUNCTION}(${tag('D')}, json_quote(j.key_json))) FROM ${replaced}) >= 0 THEN ${own} END`
    : own;
  return `CASE ${CAPTURE_FUNCTION}() WHEN 1 THEN ${unless} WHEN 2 THEN ${unless === 'true' ? collect : `CASE WHEN ${unless} THEN ${collect} ELSE 0 END`} ELSE 0 END`;
}

/**
 * When a row `s` of `t` holds one of the row `ref`'s values of a secondary UNIQUE index (SQL,
 * the indexes OR-ed); undefined when `t` has none. An index on an expression is left out.
 */
function secondaryUniqueMatch(db: Database, t: TableModel, ref: string): string | undefined {
  const matches: string[] = [];
  const indexes = db.exec({
    sql: `SELECT name FROM pragma_index_list(?) WHERE "unique" = 1 AND origin <> 'pk'`,
    bind: [t.table],
    rowMode: 'array',
    returnValue: 'resultRows',
  }) as unknown[][];
  for (const [index] of indexes) {
    const columns = db.exec({
      sql: 'SELECT cid, name, coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno',
      bind: [String(index)],
      rowMode: 'array',
      returnValue: 'resultRows',
    }) as unknown[][];
    if (columns.length === 0 || columns.some(([cid]) => Number(cid) < 0)) continue;
    const eq = columns.map(
      ([, name, coll]) => `s.${quoteIdent(String(name))} = ${ref}.${quoteIdent(String(name))} COLLATE ${quoteIdent(String(coll))}`,
    );
    matches.push(`(${eq.join(' AND ')})`);
  }
  return matches.length > 0 ? matches.join(' OR ') : undefined;
}

/**
 * The rows the write of the row `NEW` of `t` removed by REPLACE: those its BEFORE trigger noted
 * (`_sync_capture_replacing`) that are gone now. A FROM clause with its WHERE, rows `j(key_json)`.
 */
function replacedRows(t: TableModel): string {
  return (
    `(SELECT value AS key_json FROM json_each(${REPLACING_FUNCTION}(${sqlString(t.table)}, ${keyJsonExpr('NEW', t)}))) j ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${quoteIdent(t.table)} AS s WHERE s.${quoteIdent(t.key.name)} = ${keyValueOfKeyJson(t, 'j')})`
  );
}

/** The delete intents of the rows {@link replacedRows} names, written as the delete trigger writes one. */
function deleteReplaced(schema: string, t: TableModel): string {
  return (
    'INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
    `SELECT ${sqlString(schema)}, ${sqlString(t.table)}, j.key_json, 'DELETE', ` +
    `(SELECT COALESCE(MAX(rs.row_version), 0) FROM _sync_row_state rs WHERE rs.schema_name = ${sqlString(schema)} AND rs.table_name = ${sqlString(t.table)} AND rs.key_json = j.key_json), ` +
    `NULL, ${ORDINAL_FUNCTION}() FROM ${replacedRows(t)} ` +
    "ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET op = 'DELETE', payload = NULL"
  );
}

const TRIGGER_SUFFIXES = ['ai', 'au', 'ad', 'auk', 'akd', 'bki', 'bku', 'bri', 'bru'] as const;

/** The names of `t`'s capture triggers (they write only sync metadata). */
export function triggerNames(t: TableModel): string[] {
  return TRIGGER_SUFFIXES.map((suffix) => `trg_${t.table}_${suffix}`);
}

/**
 * Writes of at least this many rows run without the triggers ({@link withoutCaptureTriggers}): it
 * saves ~0.7 us a row (Node) and costs the connection's statements a compile each (~0.1 ms).
 */
const TRIGGERLESS_MIN_ROWS = 1000;

/**
 * Runs `write`, a write of the engine's own inside an apply transaction, with the connection's
 * triggers switched off when every trigger of the main schema is a capture trigger of a synced
 * table: capture is suppressed during an apply anyway, yet an AFTER INSERT trigger whose WHEN is
 * false still runs a sub-program per row (in Node ~0.7 us, a third of a pulled row's upsert).
 * Nothing observable changes: TEMP triggers still fire (SQLite keeps them with the setting off),
 * and FK actions are no triggers. Switching the setting expires every prepared statement of the
 * connection (each is compiled again at its next use, ~0.1 ms), so it pays only for many rows:
 * a write of fewer than TRIGGERLESS_MIN_ROWS `rows` just runs.
 */
export function withoutCaptureTriggers<T>(sqlite3: Sqlite3Static, db: Database, model: SchemaModel, rows: number, write: () => T): T {
  if (rows < TRIGGERLESS_MIN_ROWS) return write();
  const switchOn = switchTriggersOff(sqlite3, db, JSON.stringify(model.tables.flatMap(triggerNames)));
  if (!switchOn) return write();
  try {
    return write();
  } finally {
    switchOn();
  }
}

/** (Re)creates the capture triggers of every synced table, in one transaction (or savepoint of the caller's). */
export function installTriggers(db: Database, schema: string, model: SchemaModel): void {
  db.savepoint(() => {
    for (const t of model.tables) {
      for (const name of triggerNames(t)) db.exec(`DROP TRIGGER IF EXISTS ${quoteIdent(name)}`);
      const [ai, au, ad, auk, akd, bki, bku, bri, bru] = triggerNames(t).map(quoteIdent);
      const table = quoteIdent(t.table);
      const keyCol = quoteIdent(t.key.name);
      // A REPLACE (`INSERT OR REPLACE`, `UPDATE OR REPLACE`, `ON CONFLICT REPLACE`) removes the
      // rows holding one of the written row's values of a secondary UNIQUE index without firing a
      // delete trigger (recursive_triggers off). So on a table with such an index, a BEFORE
      // trigger notes those rows (in memory), and the AFTER trigger records a delete of each that
      // is gone: a row there before the write and not after it was deleted, whichever way.
      const match = secondaryUniqueMatch(db, t, 'NEW');
      const replaced = match ? replacedRows(t) : undefined;
      const deletes = match ? `${deleteReplaced(schema, t)}; ` : '';
      if (match) {
        for (const [name, event, self] of [
          [bri, 'INSERT', ''],
          [bru, 'UPDATE', ` AND s.${keyCol} IS NOT OLD.${keyCol}`],
        ] as const) {
          const rows = `(SELECT json_group_array(${keyJsonExpr('s', t)} || '') FROM ${table} AS s WHERE s.${keyCol} IS NOT NEW.${keyCol}${self} AND (${match}))`;
          db.exec(
            `CREATE TRIGGER ${name} BEFORE ${event} ON ${table} WHEN CASE WHEN ${CAPTURE_FUNCTION}() > 0 ` +
              `THEN ${REPLACING_FUNCTION}(${sqlString(t.table)}, ${keyJsonExpr('NEW', t)}, ${rows}) ELSE 0 END BEGIN SELECT 1; END`,
          );
        }
      }
      db.exec(
        `CREATE TRIGGER ${ai} AFTER INSERT ON ${table} WHEN ${captureWhen(schema, t, [['U', 'NEW']], 'true', replaced)} BEGIN ` +
          `${deletes}${upsertDirty(schema, t, 'NEW')}; ` +
          'END',
      );
      // Two update triggers with exclusive WHENs, so the common case (key unchanged) runs one
      // statement; a key change is a delete of the old key plus an insert of the new one, in
      // that order, inside one trigger (the firing order of separate triggers is unspecified).
      db.exec(
        `CREATE TRIGGER ${au} AFTER UPDATE ON ${table} ` +
          `WHEN OLD.${keyCol} IS NEW.${keyCol} AND ${captureWhen(
            schema,
            t,
            [['U', 'NEW']],
            replaced ? `(${notPendingAsIs(schema, t, 'NEW')} OR EXISTS (SELECT 1 FROM ${replaced}))` : notPendingAsIs(schema, t, 'NEW'),
            replaced,
          )} BEGIN ` +
          `${deletes}${upsertDirty(schema, t, 'NEW')}; ` +
          'END',
      );
      db.exec(
        `CREATE TRIGGER ${auk} AFTER UPDATE OF ${keyCol} ON ${table} ` +
          `WHEN OLD.${keyCol} IS NOT NEW.${keyCol} AND ${captureWhen(
            schema,
            t,
            [
              ['D', 'OLD'],
              ['U', 'NEW'],
            ],
            'true',
            replaced,
          )} BEGIN ` +
          `${deletes}${deleteDirty(schema, t, 'OLD')}; ` +
          `${upsertDirty(schema, t, 'NEW')}; ` +
          'END',
      );
      db.exec(
        `CREATE TRIGGER ${ad} AFTER DELETE ON ${table} WHEN ${captureWhen(schema, t, [['D', 'OLD']])} BEGIN ` +
          `${deleteDirty(schema, t, 'OLD')}; ` +
          'END',
      );
      db.exec(
        `CREATE TRIGGER ${akd} AFTER DELETE ON ${table} WHEN ${CAPTURE_FUNCTION}() = 0 BEGIN ` +
          `${keepImageOfDeleted(schema, t)}; ` +
          'END',
      );
      if (t.key.uuidAsBlob) {
        // A BLOB UUID key written as anything but its 16 bytes (its text, say) never matches its
        // own key_json again, and the push would take its change for a cancelled one: refused.
        const bad = `typeof(NEW.${keyCol}) IS NOT 'blob' OR length(NEW.${keyCol}) IS NOT 16`;
        const refuse = `SELECT RAISE(ABORT, ${sqlString(`${t.table}.${t.key.name} is a UUID key stored as a 16-byte BLOB: write its bytes (unhex(replace(uuid, '-', ''))), not its text`)}); END`;
        db.exec(`CREATE TRIGGER ${bki} BEFORE INSERT ON ${table} WHEN ${bad} BEGIN ${refuse}`);
        db.exec(`CREATE TRIGGER ${bku} BEFORE UPDATE OF ${keyCol} ON ${table} WHEN ${bad} BEGIN ${refuse}`);
      }
      db.exec({
        sql: 'INSERT OR IGNORE INTO _sync_managed_tables(schema_name, table_name) VALUES (?, ?)',
        bind: [schema, t.table],
      });
    }
  });
  const sw = captureSwitch(db);
  sw.hooked = model.tables.map((t) => {
    const keyColumn = db.selectValue('SELECT cid FROM pragma_table_xinfo(?) WHERE name = ?', [t.table, t.key.name]);
    const tag = (op: string) => ASCII.encode(JSON.stringify([schema, t.table, op, t.key.wireName]).slice(1, -1));
    return {
      name: ASCII.encode(t.table.toLowerCase()),
      keyColumn: Number(keyColumn),
      uuidAsBlob: t.key.uuidAsBlob,
      upsert: tag('U'),
      delete: tag('D'),
    };
  });
  sw.ownTriggers = JSON.stringify(model.tables.flatMap(triggerNames));
  sw.triggersCollect = true;
  // After the metadata install that runs before it.
  refreshCaptureOrdinal(db);
}

/**
 * Enqueues every row that already exists in the synced tables as an INSERT intent (first open of
 * a database that had data before sync was installed), so nothing written earlier is lost.
 */
export function captureExistingRows(db: Database, schema: string, model: SchemaModel): void {
  db.savepoint(() => {
    for (const t of model.tables) {
      db.exec(
        'INSERT OR IGNORE INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
          `SELECT ${sqlString(schema)}, ${sqlString(t.table)}, ${keyJsonExpr('src', t)}, 'INSERT', 0, NULL, ` +
          `(SELECT COALESCE(MAX(dirty_ordinal), 0) FROM _sync_dirty_rows) + row_number() OVER (ORDER BY src.${quoteIdent(t.key.name)}) ` +
          `FROM ${quoteIdent(t.table)} AS src`,
      );
    }
  });
  refreshCaptureOrdinal(db);
}

/**
 * Drops the capture triggers of every managed table. A runtime calls this before a schema
 * migration that alters a synced table (SQLite refuses e.g. `DROP COLUMN` of a column a trigger
 * reads); the next `SyncEngine.open` reinstalls them for the new shape. Writes made in between
 * are not captured, so run only schema changes (and no app data writes) while they are absent.
 */
export function dropCaptureTriggers(db: Database): void {
  const sw = captureSwitch(db);
  sw.triggersCollect = false;
  sw.hooked = [];
  const exists = db.selectValue("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sync_managed_tables'");
  if (Number(exists) === 0) return;
  const tables = db.exec({
    sql: 'SELECT table_name FROM _sync_managed_tables',
    rowMode: 'array',
    returnValue: 'resultRows',
  }) as unknown[][];
  db.transaction(() => {
    for (const [table] of tables) {
      for (const suffix of TRIGGER_SUFFIXES) db.exec(`DROP TRIGGER IF EXISTS ${quoteIdent(`trg_${String(table)}_${suffix}`)}`);
    }
  });
}
