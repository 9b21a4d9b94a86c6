/**
 * Brings the app schema to the version the app declares, one forward migration per transaction,
 * tracked in `PRAGMA user_version`. A failed migration leaves the database at the last version
 * that committed.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import { OversqliteError } from './errors.ts';
import type { AppSchema } from './types.ts';

/** Checks the shape of an app schema, failing with `invalid_argument`. */
function validateSchema(schema: AppSchema): void {
  if (!Number.isSafeInteger(schema?.version) || schema.version < 0) {
    throw new OversqliteError('invalid_argument', 'schema.version must be a non-negative integer.');
  }
  if (
    !Array.isArray(schema.migrations) ||
    schema.migrations.length !== schema.version ||
    schema.migrations.some((m) => typeof m !== 'string')
  ) {
    throw new OversqliteError(
      'invalid_argument',
      `schema.migrations must hold exactly ${schema.version} SQL strings (migrations[v] moves version v to v + 1).`,
    );
  }
}

/** Reads the schema version stored in the file. */
export function currentSchemaVersion(db: Database): number {
  return Number(db.selectValue('PRAGMA user_version') ?? 0);
}

/**
 * Applies the missing migrations and returns the version the database was at before.
 * @throws OversqliteError `schema_too_new` when the file is newer than the app; `migration_failed`
 * when a migration's SQL fails (that migration is rolled back).
 */
/** The migrations `migrateSchema` would run on this connection (none when up to date or too new). */
export function pendingMigrations(db: Database, schema: AppSchema): string[] {
  validateSchema(schema);
  return schema.migrations.slice(Math.min(currentSchemaVersion(db), schema.version), schema.version);
}

export function migrateSchema(db: Database, schema: AppSchema): number {
  validateSchema(schema);
  const before = currentSchemaVersion(db);
  if (before > schema.version) {
    throw new OversqliteError(
      'schema_too_new',
      `The database is at schema version ${before} but this app knows only up to ${schema.version}. ` +
        'An older build of the app is running against newer data: reload to get the current build.',
    );
  }
  for (let version = before; version < schema.version; version++) {
    try {
      db.transaction('IMMEDIATE', (tx) => {
        tx.exec(schema.migrations[version]!);
        tx.exec(`PRAGMA user_version = ${version + 1}`);
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new OversqliteError(
        'migration_failed',
        `Migration ${version} -> ${version + 1} failed and was rolled back (database stays at version ${version}): ${message}`,
      );
    }
  }
  return before;
}
