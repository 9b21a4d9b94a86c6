/**
 * The oversqlite migrations are the schema's one source of truth (they also run on devices that
 * upgrade from any older version); Drizzle table declarations describe the result. This check
 * compares the two on a real database, so a migration and a Drizzle table that drifted apart fail
 * a test (or app start-up) instead of a query in production.
 */
import { getTableConfig } from 'drizzle-orm/sqlite-core';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { SqlParams } from '../../worker/database/types.ts';

/** One way a Drizzle table and the migrated database disagree. */
export interface SchemaDifference {
  readonly table: string;
  /** The column, when the difference is about one. */
  readonly column?: string;
  /** What differs, in words. */
  readonly problem: string;
}

/** What the check reads through: a {@link import('../database.ts').Database} (or anything with its `query`). */
export interface SchemaReader {
  query<T>(sql: string, params?: SqlParams): Promise<T[]>;
}

interface ColumnInfo {
  name: string;
  type: string;
  not_null: number;
  pk: number;
}

/** SQLite's type affinity of a declared type (https://sqlite.org/datatype3.html, 3.1). */
function affinity(declared: string): string {
  const t = declared.toUpperCase();
  if (t.includes('INT')) return 'INTEGER';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT';
  if (t === '' || t.includes('BLOB')) return 'BLOB';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL';
  return 'NUMERIC';
}

/**
 * Differences between the Drizzle `tables` and the tables of the (migrated) database: a missing
 * table or column, a column Drizzle does not declare, another type affinity, another NOT NULL or
 * primary key. Empty when they agree.
 */
export async function checkDrizzleSchema(database: SchemaReader, tables: readonly SQLiteTable[]): Promise<SchemaDifference[]> {
  const differences: SchemaDifference[] = [];
  for (const table of tables) {
    const config = getTableConfig(table);
    const actual = await database.query<ColumnInfo>('SELECT name, type, "notnull" AS not_null, pk FROM pragma_table_info(?)', [
      config.name,
    ]);
    if (actual.length === 0) {
      differences.push({ table: config.name, problem: 'the database has no such table (no migration creates it)' });
      continue;
    }
    const byName = new Map(actual.map((c) => [c.name, c]));
    const compositeKey = new Set(config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name)));
    for (const column of config.columns) {
      const found = byName.get(column.name);
      if (found === undefined) {
        differences.push({ table: config.name, column: column.name, problem: 'declared in Drizzle, missing in the database' });
        continue;
      }
      byName.delete(column.name);
      const declared = column.getSQLType();
      if (affinity(declared) !== affinity(found.type)) {
        differences.push({
          table: config.name,
          column: column.name,
          problem: `type ${declared} in Drizzle, ${found.type || '(none)'} in the database`,
        });
      }
      if (column.notNull !== (found.not_null === 1)) {
        differences.push({
          table: config.name,
          column: column.name,
          problem: column.notNull ? 'NOT NULL in Drizzle, nullable in the database' : 'nullable in Drizzle, NOT NULL in the database',
        });
      }
      const drizzleKey = column.primary || compositeKey.has(column.name);
      if (drizzleKey !== found.pk > 0) {
        differences.push({
          table: config.name,
          column: column.name,
          problem: drizzleKey ? 'primary key in Drizzle, not in the database' : 'primary key in the database, not in Drizzle',
        });
      }
    }
    for (const extra of byName.keys()) {
      differences.push({ table: config.name, column: extra, problem: 'in the database, not declared in Drizzle' });
    }
  }
  return differences;
}
