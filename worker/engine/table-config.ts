/**
 * Reads the live SQLite schema of the synced tables and validates it against the configuration:
 * table exists, the sync key is the single PRIMARY KEY, declared TEXT or BLOB and NOT NULL, the
 * synced set is FK-closed with single-column FKs. Produces the column model (value families) and
 * the FK topological order that push and apply use. Nothing is written here, so a rejected config
 * leaves the database untouched.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import type { ValueFamily } from '../../protocol/index.ts';
import { SyncError } from './errors.ts';
import type { SyncedTable } from './types.ts';

/** One column of a synced table. */
export interface ColumnModel {
  /** Name as declared in SQLite. */
  name: string;
  /** Lowercase name used on the wire and in local JSON payloads. */
  wireName: string;
  family: ValueFamily;
  /** A BLOB column holding a UUID (the key, or an FK referencing one): 16 raw bytes locally. */
  uuidAsBlob: boolean;
  notNull: boolean;
}

/** A validated synced table. */
export interface TableModel {
  table: string;
  key: ColumnModel;
  columns: ColumnModel[];
  /** Synced tables this one references (FK parents), excluding itself. */
  parents: string[];
}

/** All synced tables, parents before children (ties and cycles keep configuration order). */
export interface SchemaModel {
  tables: TableModel[];
  /** Keyed by the lowercase (wire) table name. */
  byName: Map<string, TableModel>;
}

interface PragmaColumn {
  name: string;
  type: string;
  notnull: number | bigint;
  pk: number | bigint;
}

interface PragmaForeignKey {
  id: number | bigint;
  seq: number | bigint;
  table: string;
  from: string;
  to: string | null;
}

function configError(message: string): SyncError {
  return new SyncError('config_invalid', `${message}; repair or recreate the local application database before sync initialization`);
}

/** Value family of a column from its declared SQLite type. */
function familyFromDeclaredType(declared: string): ValueFamily {
  const t = declared.toUpperCase();
  if (t.includes('BOOL')) return 'boolean';
  if (t.includes('INT')) return 'integer';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'float';
  if (t.includes('DECIMAL') || t.includes('NUMERIC')) return 'decimal';
  if (t.includes('JSON')) return 'json';
  if (t === '' || t.includes('BLOB')) return 'blob';
  if (t.includes('TIMESTAMP') || t.includes('DATE') || t.includes('TIME')) return 'timestamp';
  return 'text';
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Reads and validates the synced tables. Throws `SyncError('config_invalid')`. */
export function loadSchemaModel(db: Database, tables: readonly SyncedTable[]): SchemaModel {
  if (tables.length === 0) throw configError('at least one synced table is required');
  const seen = new Set<string>();
  const models: TableModel[] = [];
  const fkRefs = new Map<string, { from: string; to: string; toColumn: string }[]>();

  for (const cfg of tables) {
    if (!cfg.table || cfg.table.includes('.')) throw configError(`table name "${cfg.table}" must not include a schema qualifier`);
    const lower = cfg.table.toLowerCase();
    if (seen.has(lower)) throw configError(`table "${cfg.table}" is registered twice`);
    seen.add(lower);
    if (!/^[a-z0-9_]+$/.test(cfg.table))
      throw configError(`table "${cfg.table}" must match [a-z0-9_]+ (lowercase) to be a remote table name`);

    const cols = db.exec({
      sql: `PRAGMA table_info(${quoteIdent(cfg.table)})`,
      rowMode: 'object',
      returnValue: 'resultRows',
    }) as unknown as PragmaColumn[];
    if (cols.length === 0) throw configError(`synced table "${cfg.table}" does not exist`);
    const pkCols = cols.filter((c) => Number(c.pk) > 0);
    if (!cfg.syncKey) throw configError(`table "${cfg.table}" must name its sync key column explicitly (syncKey)`);
    if (!cols.some((c) => c.name.toLowerCase() === cfg.syncKey.toLowerCase())) {
      throw configError(`table "${cfg.table}" does not contain configured primary key column ${cfg.syncKey}`);
    }
    if (pkCols.length !== 1) {
      throw configError(`table "${cfg.table}" must declare exactly one sync key column, its single PRIMARY KEY (found ${pkCols.length})`);
    }
    const pk = pkCols[0]!;
    if (pk.name.toLowerCase() !== cfg.syncKey.toLowerCase()) {
      throw configError(`sync key "${cfg.syncKey}" of table "${cfg.table}" must be its PRIMARY KEY (found "${pk.name}")`);
    }
    const pkType = pk.type.toUpperCase();
    if (pkType !== 'TEXT' && pkType !== 'BLOB') {
      throw configError(`sync key ${cfg.table}.${pk.name} must be declared TEXT PRIMARY KEY or BLOB PRIMARY KEY`);
    }
    if (Number(pk.notnull) !== 1) throw configError(`sync key ${cfg.table}.${pk.name} must be declared NOT NULL`);
    if (cols.some((c) => c.name.toLowerCase() === '_sync_scope_id')) {
      throw configError(`table "${cfg.table}" must not declare the reserved server column _sync_scope_id`);
    }
    for (const c of cols) {
      if (!/^[a-z0-9_]+$/.test(c.name.toLowerCase())) throw configError(`column ${cfg.table}.${c.name} must match [a-z0-9_]+`);
    }
    const overrides = new Map(Object.entries(cfg.columns ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    for (const name of overrides.keys()) {
      if (!cols.some((c) => c.name.toLowerCase() === name)) throw configError(`column override ${cfg.table}.${name} names no column`);
    }

    const fks = db.exec({
      sql: `PRAGMA foreign_key_list(${quoteIdent(cfg.table)})`,
      rowMode: 'object',
      returnValue: 'resultRows',
    }) as unknown as PragmaForeignKey[];
    const byId = new Map<number, PragmaForeignKey[]>();
    for (const fk of fks) {
      const id = Number(fk.id);
      byId.set(id, [...(byId.get(id) ?? []), fk]);
    }
    const refs: { from: string; to: string; toColumn: string }[] = [];
    for (const parts of byId.values()) {
      const target = parts[0]!.table;
      if (parts.length > 1) throw configError(`unsupported composite foreign keys: ${cfg.table} -> ${target}`);
      refs.push({ from: parts[0]!.from.toLowerCase(), to: target.toLowerCase(), toColumn: (parts[0]!.to ?? 'rowid').toLowerCase() });
    }
    fkRefs.set(lower, refs);

    const blobFkColumns = new Set(refs.map((r) => r.from));
    const columns: ColumnModel[] = cols.map((c) => {
      const isKey = c === pk;
      const declared = familyFromDeclaredType(c.type);
      const override = overrides.get(c.name.toLowerCase());
      const isBlobRef = declared === 'blob' && (isKey || blobFkColumns.has(c.name.toLowerCase()));
      const family: ValueFamily = override ?? (isBlobRef ? 'uuid' : isKey ? 'text' : declared);
      return {
        name: c.name,
        wireName: c.name.toLowerCase(),
        family,
        uuidAsBlob: isBlobRef,
        notNull: Number(c.notnull) === 1,
      };
    });
    const key = columns.find((c) => c.name === pk.name)!;
    models.push({ table: cfg.table, key, columns, parents: [] });
  }

  // FK closure: every referenced table must itself be synced.
  for (const m of models) {
    const refs = fkRefs.get(m.table.toLowerCase()) ?? [];
    for (const r of refs) {
      if (!seen.has(r.to)) {
        throw configError(
          `managed tables are not FK-closed: ${m.table}.${r.from} -> ${r.to}.${r.toColumn} references a table that is not synced`,
        );
      }
      if (r.to !== m.table.toLowerCase()) {
        const parent = models.find((p) => p.table.toLowerCase() === r.to)!;
        if (!m.parents.includes(parent.table)) m.parents.push(parent.table);
      }
    }
  }

  const ordered = topoOrder(models);
  return { tables: ordered, byName: new Map(ordered.map((t) => [t.table.toLowerCase(), t])) };
}

/**
 * Parents first. Among tables that are ready, configuration order decides; when only tables in a
 * cycle remain, the first of them in configuration order goes next (the server defers FKs, so
 * any order inside a cycle commits).
 */
function topoOrder(models: TableModel[]): TableModel[] {
  const out: TableModel[] = [];
  const placed = new Set<string>();
  while (out.length < models.length) {
    const remaining = models.filter((m) => !placed.has(m.table));
    const ready = remaining.find((m) => m.parents.every((p) => placed.has(p))) ?? remaining[0]!;
    out.push(ready);
    placed.add(ready.table);
  }
  return out;
}

/** SQL identifier quoting (double quotes). */
export { quoteIdent };
