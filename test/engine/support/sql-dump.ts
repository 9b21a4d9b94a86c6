/**
 * A SQLite database as SQL text: `PRAGMA user_version`, the tables, their rows, then indexes and
 * triggers (so restoring fires no trigger). Used to check in databases made by a release
 * (scripts/dump-client-metadata.ts) and to restore them in tests (`memoryDb(text)`).
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import { rows } from './sqlite.ts';

const quoteName = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export function dumpSql(db: Database): string {
  const out = [`PRAGMA user_version = ${Number(db.selectValue('PRAGMA user_version'))};`];
  const objects = rows(
    db,
    "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
  ) as { type: string; name: string; sql: string }[];
  for (const o of objects.filter((x) => x.type === 'table')) {
    out.push(`${o.sql};`);
    const cols = (rows(db, `SELECT name FROM pragma_table_info(?)`, [o.name]) as { name: string }[]).map(
      (c) => `quote(${quoteName(c.name)})`,
    );
    const values = db.exec({
      sql: `SELECT ${cols.join(" || ',' || ")} FROM ${quoteName(o.name)}`,
      rowMode: 'array',
      returnValue: 'resultRows',
    }) as unknown as string[][];
    for (const [v] of values) out.push(`INSERT INTO ${quoteName(o.name)} VALUES (${v});`);
  }
  for (const o of objects.filter((x) => x.type !== 'table')) out.push(`${o.sql};`);
  return `${out.join('\n')}\n`;
}
