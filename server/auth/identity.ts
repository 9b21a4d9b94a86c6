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
export const MAX_SOURCE_ID_LENGTH = 256;

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Why `value` cannot be an id (a sentence fragment), or null when it can. */
export function identityProblem(value: string, maxLength: number): string | null {
  if (value.trim() === '') return 'is empty or only whitespace';
  if (value.length > maxLength) return `is longer than ${maxLength} characters`;
  if (CONTROL.test(value)) return 'contains a control character';
  if (!isWellFormedText(value)) return 'contains a lone UTF-16 surrogate';
  return null;
}
