/** SQL identifier quoting, the one implementation the server uses. */

/** Double-quotes an SQL identifier (an embedded `"` is doubled). */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
