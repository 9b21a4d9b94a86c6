/**
 * Bootstrap of the `sync` metadata schema and of the capture triggers on every registered table.
 *
 * Capture uses statement-level triggers with transition tables: one set-based INSERT into the
 * capture stage per statement instead of one trigger call per row. A BEFORE STATEMENT guard
 * rejects any write outside a sync bundle context (and counts it); the AFTER triggers check that
 * every touched row belongs to the bundle's user.
 */
import type { SqlSession } from '../database/types.ts';
import { canonicalPayloadSql } from './canonical-payload.ts';
import { SCOPE_COLUMN, keyTextSql } from './catalog.ts';
import { quoteIdent } from '../database/sql-identifiers.ts';
import type { Catalog, CatalogTable } from './catalog.ts';
import { splitStatements, upgradeLayout } from './layout.ts';

/** Advisory lock key serializing bootstraps across processes ("oversync" in ASCII). */
const BOOTSTRAP_LOCK = '8031079918095626851'; // 0x6f76657273796e63

function captureFunctionSql(t: CatalogTable): string {
  const fn = `sync.capture_t${t.tableId}`;
  const scope = quoteIdent(SCOPE_COLUMN);
  const key = quoteIdent(t.keyColumn);
  // Canonical JSON text of the row (see canonical-payload.ts).
  const payload = canonicalPayloadSql(t, 'n', 'w');
  const ownerCheck = (rel: string) => `
  IF EXISTS (SELECT 1 FROM ${rel} r WHERE r.${scope} IS DISTINCT FROM uid) THEN
    RAISE EXCEPTION 'oversync: % on %.% touches rows outside the bundle user''s scope', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
  END IF;`;
  const head = `
DECLARE
  uid text := current_setting('oversync.bundle_user_id', true);
BEGIN`;
  return `
CREATE OR REPLACE FUNCTION ${fn}_ins() RETURNS trigger LANGUAGE plpgsql AS $fn$${head}${ownerCheck('new_rows')}
  INSERT INTO pg_temp.oversync_capture_stage (table_id, op_code, key_text, payload)
  SELECT ${t.tableId}, 1, ${keyTextSql(t, 'n')}, ${payload.expr} FROM new_rows n, ${payload.from};
  RETURN NULL;
END
$fn$;
--next
CREATE OR REPLACE FUNCTION ${fn}_del() RETURNS trigger LANGUAGE plpgsql AS $fn$${head}${ownerCheck('old_rows')}
  INSERT INTO pg_temp.oversync_capture_stage (table_id, op_code, key_text, payload)
  SELECT ${t.tableId}, 3, ${keyTextSql(t, 'o')}, NULL FROM old_rows o;
  RETURN NULL;
END
$fn$;
--next
CREATE OR REPLACE FUNCTION ${fn}_upd() RETURNS trigger LANGUAGE plpgsql AS $fn$${head}${ownerCheck('old_rows')}${ownerCheck('new_rows')}
  -- Rows pair up by key: a key that disappears is a DELETE, a new key an INSERT, the rest UPDATEs.
  INSERT INTO pg_temp.oversync_capture_stage (table_id, op_code, key_text, payload)
  SELECT ${t.tableId}, 3, ${keyTextSql(t, 'o')}, NULL FROM old_rows o
   WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.${key} = o.${key});
  INSERT INTO pg_temp.oversync_capture_stage (table_id, op_code, key_text, payload)
  SELECT ${t.tableId}, CASE WHEN o.k IS NULL THEN 1 ELSE 2 END, ${keyTextSql(t, 'n')}, ${payload.expr}
    FROM new_rows n LEFT JOIN (SELECT o.${key} AS k FROM old_rows o) o ON o.k = n.${key} CROSS JOIN ${payload.from};
  RETURN NULL;
END
$fn$;
--next
DROP TRIGGER IF EXISTS oversync_guard ON ${t.sqlName};
--next
DROP TRIGGER IF EXISTS oversync_guard_truncate ON ${t.sqlName};
--next
DROP TRIGGER IF EXISTS oversync_capture_ins ON ${t.sqlName};
--next
DROP TRIGGER IF EXISTS oversync_capture_upd ON ${t.sqlName};
--next
DROP TRIGGER IF EXISTS oversync_capture_del ON ${t.sqlName};
--next
CREATE TRIGGER oversync_guard BEFORE INSERT OR UPDATE OR DELETE ON ${t.sqlName}
  FOR EACH STATEMENT EXECUTE FUNCTION sync.guard_registered_write();
--next
CREATE TRIGGER oversync_guard_truncate BEFORE TRUNCATE ON ${t.sqlName}
  FOR EACH STATEMENT EXECUTE FUNCTION sync.guard_registered_write();
--next
CREATE TRIGGER oversync_capture_ins AFTER INSERT ON ${t.sqlName}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}_ins();
--next
CREATE TRIGGER oversync_capture_upd AFTER UPDATE ON ${t.sqlName}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}_upd();
--next
CREATE TRIGGER oversync_capture_del AFTER DELETE ON ${t.sqlName}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}_del();
--next
-- Server-originated writes may omit the owner column: it defaults to the bundle's user.
ALTER TABLE ${t.sqlName} ALTER COLUMN ${scope} SET DEFAULT current_setting('oversync.bundle_user_id', true);
--next
`;
}

/**
 * Brings the `sync` schema to the current layout (layout.ts) and installs the triggers, in one
 * transaction under a cross-process advisory lock. Fails closed when an existing catalog registers a different table set.
 */
export async function bootstrapSyncSchema(session: SqlSession, catalog: Catalog): Promise<void> {
  // The trigger and default installation locks the registered tables; an application's own DDL
  // on them in another process (its migrations at start-up) can deadlock with it. PostgreSQL then
  // aborts one side; when it is this one, the whole transaction is simply run again.
  for (let attempt = 1; ; attempt++) {
    try {
      await bootstrapOnce(session, catalog);
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== '40P01' || attempt >= 5) throw err;
    }
  }
}

async function bootstrapOnce(session: SqlSession, catalog: Catalog): Promise<void> {
  await session.query('BEGIN');
  try {
    await session.query(`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
    await upgradeLayout(session);
    const existing = await session.query<{ table_id: number; schema_name: string; table_name: string; sync_key_column: string }>(
      'SELECT table_id, schema_name, table_name, sync_key_column FROM sync.table_catalog ORDER BY table_id',
    );
    const wanted = catalog.tables.map((t) => `${t.tableId}:${t.qualifiedName}:${t.keyColumn}`).join(',');
    if (existing.rows.length === 0) {
      for (const t of catalog.tables) {
        await session.query(
          'INSERT INTO sync.table_catalog (table_id, schema_name, table_name, sync_key_column, sync_key_kind) VALUES ($1, $2, $3, $4, $5)',
          [t.tableId, t.schema, t.table, t.keyColumn, t.keyKind],
        );
      }
    } else {
      const have = existing.rows.map((r) => `${r.table_id}:${r.schema_name}.${r.table_name}:${r.sync_key_column}`).join(',');
      if (have !== wanted) {
        throw new Error(
          `sync schema was bootstrapped for tables [${have}], not [${wanted}]; the registered set is frozen (drop schema "sync" to change it)`,
        );
      }
    }
    for (const t of catalog.tables) for (const stmt of splitStatements(captureFunctionSql(t))) await session.query(stmt);
    await session.query('COMMIT');
  } catch (err) {
    await session.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
