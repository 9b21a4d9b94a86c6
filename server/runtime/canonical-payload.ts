/**
 * Captured payloads as canonical JSON text.
 *
 * The capture triggers store each row's wire payload as compact `row_to_json` text with the
 * members in canonical (sorted) order and floats already in their wire form (ECMAScript
 * shortest round-trip, which PostgreSQL's fixed notation equals; exponent forms, `-0`, are
 * rewritten by `sync.float_wire_text`). For a table whose every column renders as a JSON string,
 * `true`/`false` or `null` (no json columns, no text-like types `to_json` may render otherwise),
 * that stored text is byte for byte the canonical JSON of the payload (PostgreSQL escapes
 * strings exactly as `JSON.stringify` does, in UTF-8 databases). So:
 * - the bundle hash material is assembled from the stored text without parsing it
 *   (bundle-hash.ts#hashStoredRows);
 * - committed rows travel as the stored text, spliced into the response (committed-rows.ts).
 * A stored payload is used as text only when it starts with the table's {@link canonicalPrefix}
 * (`{"<first column>":`): payloads captured by an older server version (`json_build_object`
 * text, `{"id" : ...}`) never do, and are parsed and serialized as before.
 */
import { wireValueSql } from './catalog.ts';
import { quoteIdent } from '../database/sql-identifiers.ts';
import type { CatalogColumn, CatalogTable } from './catalog.ts';

/** Base types of the text family whose `to_json` is a JSON string of their text. */
const STRING_TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'citext', 'name']);

/** Columns in canonical member order (UTF-16 order of the names; names are ASCII identifiers). */
function sortedColumns(table: CatalogTable): CatalogColumn[] {
  return [...table.columns].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function rendersAsCanonicalScalar(c: CatalogColumn): boolean {
  if (c.family === 'json') return false;
  if (c.family === 'text') return STRING_TEXT_TYPES.has(c.baseType);
  return true;
}

const prefixes = new WeakMap<CatalogTable, string | null>();

/**
 * How a canonical stored payload of `table` starts (`{"<first column>":`), or null when the
 * table's payload text is not canonical JSON (json columns, text-like types of other kinds).
 */
export function canonicalPrefix(table: CatalogTable): string | null {
  let p = prefixes.get(table);
  if (p === undefined) {
    const cols = sortedColumns(table);
    p = cols.length > 0 && cols.every(rendersAsCanonicalScalar) ? `{${JSON.stringify(cols[0]!.name)}:` : null;
    prefixes.set(table, p);
  }
  return p;
}

/**
 * The canonical payload of row alias `alias`, for the capture triggers: a LATERAL subquery
 * (`from`, joined to the row) and the `json` expression over it (`expr`). A LATERAL subquery is
 * flattened into the row's scan (a scalar subquery in the select list runs per row as a subplan,
 * ~15% slower on 10,000 rows). Float values go through `sync.float_wire_text` only when
 * PostgreSQL's text is not already the wire form.
 */
export function canonicalPayloadSql(table: CatalogTable, alias: string, as: string): { from: string; expr: string } {
  const cols = sortedColumns(table);
  const floats = cols.filter((c) => c.family === 'float');
  const members = cols.map((c) => {
    if (c.family !== 'float') return `${wireValueSql(c, alias)} AS ${quoteIdent(c.name)}`;
    const f = `f.${quoteIdent(c.name)}`;
    return `CASE WHEN ${f} ~ '^-?[0-9.]+$' AND ${f} <> '-0' THEN ${f} ELSE sync.float_wire_text(${f}) END AS ${quoteIdent(c.name)}`;
  });
  const inner =
    floats.length > 0 ? ` FROM (SELECT ${floats.map((c) => `${wireValueSql(c, alias)} AS ${quoteIdent(c.name)}`).join(', ')}) f` : '';
  return { from: `LATERAL (SELECT ${members.join(', ')}${inner}) ${as}`, expr: `row_to_json(${as})` };
}

/**
 * `sync.float_wire_text(text)`: `canonicalFloatString(Number(t))` for PostgreSQL's text `t` of a
 * float8 written with any `extra_float_digits`: the value is re-read and written in its shortest
 * round-trip digits (the function's own extra_float_digits = 1), then laid out as ECMAScript's
 * `Number#toString` does. Non-finite values cannot travel and fail the write, as they always have.
 * (PostgreSQL's fixed notation needs none of this: with extra_float_digits > 0 it is already the
 * shortest digits, and with <= 0 its at most 15 significant digits are the shortest digits of the
 * double they denote; denormals, the exception, are always in exponent form.)
 */
export const FLOAT_WIRE_TEXT_SQL = `
CREATE OR REPLACE FUNCTION sync.float_wire_text(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT
SET extra_float_digits = 1 AS $fn$
DECLARE
  neg boolean := left(t, 1) = '-';
  body text := ltrim(t, '-');
  mant text;
  digits text;
  k int;
  n int;
  e int;
BEGIN
  IF body IN ('NaN', 'Infinity') THEN
    RAISE EXCEPTION 'oversync: float value % cannot travel on the wire (non_finite)', t USING ERRCODE = 'data_exception';
  END IF;
  body := ltrim(t::float8::text, '-');
  mant := split_part(body, 'e', 1);
  n := CASE WHEN strpos(mant, '.') > 0 THEN strpos(mant, '.') - 1 ELSE length(mant) END
       + CASE WHEN strpos(body, 'e') > 0 THEN split_part(body, 'e', 2)::int ELSE 0 END;
  digits := replace(mant, '.', '');
  -- Value = 0.<digits> x 10^n with the leading zeros moved into n; trailing zeros dropped.
  WHILE length(digits) > 1 AND left(digits, 1) = '0' LOOP
    digits := substr(digits, 2);
    n := n - 1;
  END LOOP;
  digits := rtrim(digits, '0');
  IF digits = '' THEN
    RETURN '0';
  END IF;
  k := length(digits);
  IF k <= n AND n <= 21 THEN
    body := digits || repeat('0', n - k);
  ELSIF 0 < n AND n <= 21 THEN
    body := left(digits, n) || '.' || substr(digits, n + 1);
  ELSIF -6 < n AND n <= 0 THEN
    body := '0.' || repeat('0', -n) || digits;
  ELSE
    e := n - 1;
    body := left(digits, 1) || CASE WHEN k > 1 THEN '.' || substr(digits, 2) ELSE '' END
            || 'e' || CASE WHEN e >= 0 THEN '+' ELSE '-' END || abs(e)::text;
  END IF;
  RETURN CASE WHEN neg THEN '-' ELSE '' END || body;
END
$fn$`;
