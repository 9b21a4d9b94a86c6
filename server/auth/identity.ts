/**
 * User ids and source ids are opaque exact strings: compared byte for byte, never trimmed or
 * normalised (" bob " is not "bob"). What cannot be an id is refused before any database work:
 * empty or whitespace-only, control characters (C0, DEL, C1, U+2028/U+2029: they would forge log
 * lines), lone UTF-16 surrogates (not Unicode; PostgreSQL would store U+FFFD and merge two ids),
 * and more than the documented length (a btree index entry has a size limit).
 */
import { isWellFormedText } from '../http/storable-json.ts';

/** Longest user id (the token's `sub`), in UTF-16 code units. */
export const MAX_USER_ID_LENGTH = 256;
/** Longest source id (`Oversync-Source-ID`, `new_source_id`), in UTF-16 code units. */
const MAX_SOURCE_ID_LENGTH = 256;

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Why `value` cannot be a source id, or null. A source id travels in the `Oversync-Source-ID`
 * header, so on top of {@link identityProblem} it must be printable ASCII (HTTP clients cannot
 * send other characters in a header reliably) without surrounding spaces; an id announced in a
 * body (`new_source_id`) that no client could send back would strand that device.
 */
export function sourceIdProblem(value: string): string | null {
  const problem = identityProblem(value, MAX_SOURCE_ID_LENGTH);
  if (problem) return problem;
  if (!/^[\x20-\x7e]+$/.test(value)) return 'must be printable ASCII (it travels in an HTTP header)';
  if (value !== value.trim()) return 'must not start or end with a space';
  return null;
}

/** Why `value` cannot be an id (a sentence fragment), or null when it can. */
export function identityProblem(value: string, maxLength: number): string | null {
  if (value.trim() === '') return 'is empty or only whitespace';
  if (value.length > maxLength) return `is longer than ${maxLength} characters`;
  if (CONTROL.test(value)) return 'contains a control character';
  if (!isWellFormedText(value)) return 'contains a lone UTF-16 surrogate';
  return null;
}
