/**
 * Which dialect a request is answered in (see `protocol/dialect.ts` and "Two dialects at once" in
 * docs/protocol-differences.md). Push sessions are detected by their create body; reads follow the
 * requesting source's last committed dialect; an operator option can force one for everything.
 */
import type { WireDialect } from '../../protocol/dialect.ts';
import { isWireDialect } from '../../protocol/dialect.ts';
import type { SqlSession } from '../database/types.ts';

/** Server option: `'auto'` detects per push session and remembers per source. */
export type WireDialectOption = 'auto' | WireDialect;

/** The dialect of everything this project spoke before go-oversync peers were served. */
export const STRINGS_DIALECT: WireDialect = 'jcs-numeric-strings';
export const NUMBERS_DIALECT: WireDialect = 'go-json-numbers';

/**
 * A push session's dialect: forced by the option, else a session created without
 * `canonical_request_hash` comes from a go-oversync 1f1118f client (numbers), with it from a
 * contracts client (strings).
 */
export function pushSessionDialect(option: WireDialectOption, canonicalRequestHash: string | null): WireDialect {
  if (option !== 'auto') return option;
  return canonicalRequestHash ? STRINGS_DIALECT : NUMBERS_DIALECT;
}

/** A stored dialect value (null or unknown text: the strings dialect, what older layouts stored). */
export function storedDialect(value: string | null | undefined): WireDialect {
  return isWireDialect(value) ? value : STRINGS_DIALECT;
}

/**
 * The dialect reads (pull, snapshot chunks) are answered in for `sourceId`: forced by the option,
 * else the dialect of the source's last committed push; a source that never pushed gets strings.
 * (The pull reads it with the user's scope, in the same statement.)
 */
export async function requesterDialectOfUser(
  session: SqlSession,
  option: WireDialectOption,
  userId: string,
  sourceId: string,
): Promise<WireDialect> {
  if (option !== 'auto') return option;
  const r = await session.query<{ wire_dialect: string | null }>(
    `SELECT s.wire_dialect FROM sync.source_state s JOIN sync.user_state u ON u.user_pk = s.user_pk
      WHERE u.user_id = $1 AND s.source_id = $2`,
    [userId, sourceId],
  );
  return storedDialect(r.rows[0]?.wire_dialect);
}
