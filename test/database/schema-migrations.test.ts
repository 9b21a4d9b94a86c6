import { describe, expect, it } from 'vitest';
import { loadSqlite } from '../../worker/database/sqlite-module.ts';
import { currentSchemaVersion, migrateSchema } from '../../worker/database/schema-migrations.ts';
import { OversqliteError } from '../../worker/database/errors.ts';

describe('schema migrations (PRAGMA user_version)', () => {
  it('applies only the missing forward migrations, in order', async () => {
    const sqlite3 = await loadSqlite();
    const db = new sqlite3.oo1.DB(':memory:', 'c');
    expect(migrateSchema(db, { version: 1, migrations: ['CREATE TABLE a (x)'] })).toBe(0);
    db.exec("INSERT INTO a VALUES ('kept')");
    expect(migrateSchema(db, { version: 2, migrations: ['CREATE TABLE a (x)', 'ALTER TABLE a ADD COLUMN y DEFAULT 7'] })).toBe(1);
    expect(currentSchemaVersion(db)).toBe(2);
    expect(db.selectObjects('SELECT x, y FROM a')).toEqual([{ x: 'kept', y: 7 }]);
    db.close();
  });

  it('rolls back a failing migration and stays at the last good version', async () => {
    const sqlite3 = await loadSqlite();
    const db = new sqlite3.oo1.DB(':memory:', 'c');
    const error = (() => {
      try {
        migrateSchema(db, { version: 2, migrations: ['CREATE TABLE a (x)', 'CREATE TABLE b (y); CREATE TABLE a (z)'] });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(OversqliteError);
    expect((error as OversqliteError).code).toBe('migration_failed');
    expect(currentSchemaVersion(db)).toBe(1);
    expect(db.selectValue("SELECT count(*) FROM sqlite_master WHERE name = 'b'")).toBe(0);
    db.close();
  });

  it('refuses a database newer than the app, and a malformed schema', async () => {
    const sqlite3 = await loadSqlite();
    const db = new sqlite3.oo1.DB(':memory:', 'c');
    db.exec('PRAGMA user_version = 5');
    expect(() => migrateSchema(db, { version: 1, migrations: ['CREATE TABLE a (x)'] })).toThrow(
      expect.objectContaining({ code: 'schema_too_new' }),
    );
    expect(() => migrateSchema(db, { version: 2, migrations: ['CREATE TABLE a (x)'] })).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
    db.close();
  });
});
