/**
 * The registered-table catalog: what the runtime knows about each business table (its id, key,
 * columns and their wire families) and the SQL fragments that move values between PostgreSQL
 * columns and wire payloads in set-based statements.
 */
import { quoteIdent } from '../database/sql-identifiers.ts';
import type { ValueFamily } from '../../protocol/values.ts';
import type { SqlSession } from '../database/types.ts';
import type { RegisteredTable } from './options.ts';
import { SyncServerError } from './sync-error.ts';

/** The hidden owner column every registered table carries; never on the wire. */
export const SCOPE_COLUMN = '_sync_scope_id';

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** One column of a registered table (the scope column excluded). */
export interface CatalogColumn {
  name: string;
  /** `format_type()` of the column, used in casts (e.g. `numeric(10,2)`, `timestamp with time zone`). */
  sqlType: string;
  /** Base type name (`int8`, `float4`, ...), domains resolved. */
  baseType: string;
  family: ValueFamily;
}

/** A registered table as bootstrapped. */
export interface CatalogTable {
  /** 1-based position in the sorted `schema.table` list. */
  tableId: number;
  schema: string;
  table: string;
  /** `schema.table`. */
  qualifiedName: string;
  /** Quoted `"schema"."table"` for SQL. */
  sqlName: string;
  keyColumn: string;
  keyKind: 'uuid' | 'text';
  columns: CatalogColumn[];
  columnsByName: Map<string, CatalogColumn>;
  /** Float columns whose PostgreSQL text must be re-rendered in the shortest JS form on output. */
  floatColumns: string[];
}

/** The registered set. */
export interface Catalog {
  tables: CatalogTable[];
  byId: Map<number, CatalogTable>;
  /** Keyed by `schema.table`. */
  byName: Map<string, CatalogTable>;
}

/** Quotes an SQL string literal (escape-string form: safe whatever standard_conforming_strings is). */
export function quoteLiteral(text: string): string {
  return "E'" + text.replace(/\\/g, '\\\\').replace(/'/g, "''") + "'";
}

function familyOf(baseType: string): ValueFamily | null {
  switch (baseType) {
    case 'int2':
    case 'int4':
    case 'int8':
      return 'integer';
    case 'float4':
    case 'float8':
      return 'float';
    case 'numeric':
      return 'decimal';
    case 'bool':
      return 'boolean';
    case 'uuid':
      return 'uuid';
    case 'bytea':
      return 'blob';
    case 'json':
    case 'jsonb':
      return 'json';
    case 'timestamptz':
    case 'timestamp':
    case 'date':
    case 'time':
    case 'timetz':
      return 'timestamp';
    default:
      return null;
  }
}

/** Sorts and validates the host's table list (names lowercase identifiers, no duplicates). */
export function normalizeRegisteredTables(tables: RegisteredTable[]): RegisteredTable[] {
  if (!Array.isArray(tables) || tables.length === 0) {
    throw new SyncServerError('invalid_request', 'createSyncServer: `tables` must list at least one registered table');
  }
  const seen = new Set<string>();
  const out = tables.map((t) => {
    const schema = String(t.schema ?? '').trim();
    const table = String(t.table ?? '').trim();
    const syncKey = String(t.syncKey ?? '').trim();
    for (const [what, v] of [
      ['schema', schema],
      ['table', table],
      ['syncKey', syncKey],
    ] as const) {
      if (!IDENT.test(v)) throw new SyncServerError('invalid_request', `registered table ${what} "${v}" must match ^[a-z_][a-z0-9_]*$`);
    }
    if (syncKey === SCOPE_COLUMN) throw new SyncServerError('invalid_request', `sync key of ${schema}.${table} cannot be ${SCOPE_COLUMN}`);
    const q = `${schema}.${table}`;
    if (seen.has(q)) throw new SyncServerError('invalid_request', `table ${q} is registered twice`);
    seen.add(q);
    return { schema, table, syncKey };
  });
  return out.sort((a, b) => (`${a.schema}.${a.table}` < `${b.schema}.${b.table}` ? -1 : 1));
}

interface ColumnRow {
  attname: string;
  sql_type: string;
  base_type: string;
  typcategory: string;
}

/**
 * Reads the columns of every registered table and checks the envelope the runtime relies on:
 * a text scope column, a uuid/text key, a unique index on exactly (scope, key), and lowercase
 * column names with supported types. Throws `Error` describing the first problem (fail closed).
 */
export async function loadCatalog(session: SqlSession, tables: RegisteredTable[]): Promise<Catalog> {
  const out: CatalogTable[] = [];
  const registeredOids = new Map<number, CatalogTable>();
  for (const [i, t] of tables.entries()) {
    const qualifiedName = `${t.schema}.${t.table}`;
    const sqlName = `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
    const rel = await session.query<{ oid: number }>(
      `SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r','p')`,
      [t.schema, t.table],
    );
    if (rel.rows.length === 0) throw new Error(`registered table ${qualifiedName} does not exist`);
    const oid = rel.rows[0]!.oid;
    const cols = await session.query<ColumnRow>(
      `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS sql_type,
              coalesce(bt.typname, t.typname) AS base_type, coalesce(bt.typcategory, t.typcategory) AS typcategory
         FROM pg_attribute a
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        ORDER BY a.attnum`,
      [oid],
    );
    const scope = cols.rows.find((c) => c.attname === SCOPE_COLUMN);
    if (!scope || scope.base_type !== 'text') throw new Error(`${qualifiedName} needs a column ${SCOPE_COLUMN} of type text`);
    const columns: CatalogColumn[] = [];
    for (const c of cols.rows) {
      if (c.attname === SCOPE_COLUMN) continue;
      if (!IDENT.test(c.attname)) throw new Error(`${qualifiedName}.${c.attname}: column names must be lowercase identifiers`);
      let family = familyOf(c.base_type);
      if (!family) {
        if (c.typcategory === 'A') throw new Error(`${qualifiedName}.${c.attname}: array columns are not supported`);
        family = 'text'; // text, varchar, char, enums, citext, ...: travel as their text form
      }
      columns.push({ name: c.attname, sqlType: c.sql_type, baseType: c.base_type, family });
    }
    const key = columns.find((c) => c.name === t.syncKey);
    if (!key) throw new Error(`${qualifiedName}: sync key column ${t.syncKey} does not exist`);
    if (key.baseType !== 'uuid' && key.family !== 'text') throw new Error(`${qualifiedName}: sync key ${t.syncKey} must be uuid or text`);
    const idx = await session.query<{ ok: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM pg_index i
          WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
            AND i.indnkeyatts = 2
            AND (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) = ARRAY[$2::text, $3::text]
       ) AS ok`,
      [oid, SCOPE_COLUMN, t.syncKey],
    );
    if (!idx.rows[0]?.ok) throw new Error(`${qualifiedName} needs a unique index on exactly (${SCOPE_COLUMN}, ${t.syncKey})`);
    const table: CatalogTable = {
      tableId: i + 1,
      schema: t.schema,
      table: t.table,
      qualifiedName,
      sqlName,
      keyColumn: t.syncKey,
      keyKind: key.baseType === 'uuid' ? 'uuid' : 'text',
      columns,
      columnsByName: new Map(columns.map((c) => [c.name, c])),
      floatColumns: columns.filter((c) => c.family === 'float').map((c) => c.name),
    };
    out.push(table);
    registeredOids.set(oid, table);
  }
  await checkForeignKeys(session, registeredOids);
  return {
    tables: out,
    byId: new Map(out.map((t) => [t.tableId, t])),
    byName: new Map(out.map((t) => [t.qualifiedName, t])),
  };
}

/** SQL value of column `c` of row alias `alias` in its wire form (before float re-rendering). */
export function wireValueSql(c: CatalogColumn, alias: string): string {
  const ref = `${alias}.${quoteIdent(c.name)}`;
  switch (c.family) {
    case 'integer':
    case 'decimal':
    case 'uuid':
      return `${ref}::text`;
    case 'float':
      // float4 widens exactly to float8, whose shortest text is what the contract expects.
      return `${ref}::float8::text`;
    case 'blob':
      return `translate(encode(${ref}, 'base64'), E'\\n', '')`;
    default:
      return ref; // bool, json(b), text, timestamps: rendered as to_json does
  }
}

/**
 * SQL `json` expression of a whole row's wire payload (scope column excluded). `json` (text) is
 * built and stored markedly cheaper than `jsonb`, and these payloads are only ever read whole.
 */
export function wirePayloadSql(table: CatalogTable, alias: string): string {
  // json_build_object takes at most 100 arguments: wider tables merge groups of 50 columns.
  if (table.columns.length <= 50) {
    return `json_build_object(${table.columns.map((c) => `${quoteLiteral(c.name)}, ${wireValueSql(c, alias)}`).join(', ')})`;
  }
  const parts: string[] = [];
  for (let i = 0; i < table.columns.length; i += 50) {
    const group = table.columns.slice(i, i + 50);
    parts.push(`jsonb_build_object(${group.map((c) => `${quoteLiteral(c.name)}, ${wireValueSql(c, alias)}`).join(', ')})`);
  }
  return `(${parts.join(' || ')})::json`;
}

/**
 * SQL `json` expression of a row's wire payload as compact text (`row_to_json`: no whitespace,
 * columns in table order, the values of {@link wirePayloadSql}); used for snapshot rows, whose
 * text is spliced into responses as it is stored when nothing in it needs re-rendering.
 */
export function compactWirePayloadSql(table: CatalogTable, alias: string): string {
  return `(SELECT row_to_json(w) FROM (SELECT ${table.columns.map((c) => `${wireValueSql(c, alias)} AS ${quoteIdent(c.name)}`).join(', ')}) w)`;
}

/** Families whose wire value text never holds a character JSON escapes (digits, signs, hex, base64, NaN...). */
const PLAIN_TEXT_FAMILIES = new Set(['integer', 'decimal', 'uuid', 'float', 'blob']);

/** Arguments per `concat()` call (PostgreSQL takes at most 100). */
const CONCAT_ARGS = 90;

/**
 * SQL `text` of the same compact payload as {@link compactWirePayloadSql}, byte for byte, built
 * by concatenating each value's `to_json` text (what `row_to_json` writes for a member) under
 * its JSON-quoted name. Unlike the correlated `row_to_json` sub-select, which PostgreSQL cannot
 * run in a parallel worker, this is evaluated where the rows are scanned, in parallel workers too.
 * Values whose text needs no escaping are quoted directly (to_json's escaping costs ~7 ns a byte).
 */
export function wirePayloadTextSql(table: CatalogTable, alias: string): string {
  const args: string[] = [];
  for (const [i, c] of table.columns.entries()) {
    const v = wireValueSql(c, alias);
    args.push(quoteLiteral(`${i === 0 ? '{' : ','}${JSON.stringify(c.name)}:`));
    args.push(PLAIN_TEXT_FAMILIES.has(c.family) ? `coalesce('"' || ${v} || '"', 'null')` : `coalesce(to_json(${v})::text, 'null')`);
  }
  args.push(`'}'`);
  const calls: string[] = [];
  for (let i = 0; i < args.length; i += CONCAT_ARGS) calls.push(`concat(${args.slice(i, i + CONCAT_ARGS).join(', ')})`);
  return calls.length === 1 ? calls[0]! : `concat(${calls.join(', ')})`;
}

/** SQL text of the row's sync key (uuid keys in canonical lowercase text). */
export function keyTextSql(table: CatalogTable, alias: string): string {
  return `${alias}.${quoteIdent(table.keyColumn)}::text`;
}

/** SQL that decodes wire payload member `c` of the `jsonb` expression `payload` into the column type. */
export function decodeValueSql(c: CatalogColumn, payload: string): string {
  const lit = quoteLiteral(c.name);
  switch (c.baseType) {
    case 'bytea':
      return `decode(${payload}->>${lit}, 'base64')`;
    case 'json':
    case 'jsonb':
      return `nullif(${payload}->${lit}, 'null'::jsonb)::${c.sqlType}`;
    default:
      return `(${payload}->>${lit})::${c.sqlType}`;
  }
}

/** SQL that casts a key text expression to the key column's type. */
export function keyFromTextSql(table: CatalogTable, textExpr: string): string {
  // Sync-side key columns use the C collation; comparing under the business column's own
  // collation keeps its (scope, key) index usable.
  return table.keyKind === 'uuid' ? `(${textExpr})::uuid` : `(${textExpr}) COLLATE "default"`;
}

/**
 * Foreign keys of registered tables: a bundle may write a child before its parent and devices
 * apply whole bundles, so every FK from a registered table must point at a registered table (the
 * set is closed), pair the scopes — `(_sync_scope_id, fk) -> (_sync_scope_id, parent key)`, so a
 * row can never reference another user's row — and be DEFERRABLE (checked at COMMIT).
 */
async function checkForeignKeys(session: SqlSession, registered: ReadonlyMap<number, CatalogTable>): Promise<void> {
  const fks = await session.query<{
    conname: string;
    child: number;
    parent: number;
    deferrable: boolean;
    child_cols: string[];
    parent_cols: string[];
  }>(
    `SELECT c.conname, c.conrelid::int AS child, c.confrelid::int AS parent, c.condeferrable AS deferrable,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS child_cols,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS parent_cols
       FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY($1::oid[])`,
    [[...registered.keys()]],
  );
  for (const fk of fks.rows) {
    const child = registered.get(fk.child)!;
    const parent = registered.get(fk.parent);
    const what = `${child.qualifiedName}: foreign key ${fk.conname}`;
    if (!parent) {
      const name = await session.query<{ name: string }>('SELECT $1::oid::regclass::text AS name', [fk.parent]);
      throw new Error(
        `${what} references ${name.rows[0]?.name ?? fk.parent}, which is not registered: the registered tables must be closed under foreign keys`,
      );
    }
    if (
      fk.child_cols.length !== 2 ||
      fk.child_cols[0] !== SCOPE_COLUMN ||
      fk.parent_cols[0] !== SCOPE_COLUMN ||
      fk.parent_cols[1] !== parent.keyColumn
    ) {
      throw new Error(
        `${what} must be (${SCOPE_COLUMN}, <column>) -> ${parent.qualifiedName} (${SCOPE_COLUMN}, ${parent.keyColumn}), so that rows only reference rows of the same user`,
      );
    }
    if (!fk.deferrable) throw new Error(`${what} must be DEFERRABLE (a bundle may write a child before its parent)`);
  }
}
