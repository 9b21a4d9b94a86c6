/**
 * How PostgreSQL will hand back a timestamp the client pushes, so that a push can prove its
 * committed bundle without downloading it (`wire-text.ts`).
 *
 * Both servers store a `timestamptz` as microseconds and render it with `to_jsonb` in the session's
 * zone, UTC for ours (every sync transaction sets it) and for go-oversync on a UTC PostgreSQL:
 * `2026-03-24T18:42:11.5+00:00` (trailing fraction zeros dropped, no fraction when it is zero).
 * A pushed `…T08:00:00.000Z` comes back `…T08:00:00+00:00`, a pushed `….123456789Z` comes back
 * `….123457+00:00`: the same instant at PostgreSQL's precision. Only unambiguous input is
 * predicted (ISO 8601 date-time with an explicit zone, years 0001-9999); anything else is left
 * as is, and if the server's text differs the replay downloads the bundle and adopts it.
 */

const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)$/;

/**
 * Microseconds of a fraction's digits as PostgreSQL computes them: `rint(strtod("0.<digits>") *
 * 1e6)`, the same double arithmetic, ties to even.
 */
function fractionMicros(digits: string): number {
  const x = Number(`0.${digits}`) * 1_000_000;
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The text PostgreSQL renders for a pushed timestamptz in UTC, or null when not predictable. */
export function pgUtcTimestampText(input: string): string | null {
  const m = ISO_WITH_ZONE.exec(input);
  if (!m || m[1] === '0000') return null;
  const [, y, mo, d, h, mi, s, frac, sign, oh = 0, om = 0] = m;
  if (+oh > 15 || +om > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(+y!, +mo! - 1, +d!);
  date.setUTCHours(+h!, +mi!, +s!);
  // Not a real date and time (Feb 30, 24:00): PostgreSQL rejects it; nothing to predict.
  if (date.toISOString().slice(0, 19) !== `${y}-${mo}-${d}T${h}:${mi}:${s}`) return null;
  const micros = frac ? fractionMicros(frac) : 0;
  const utc = new Date(+date - (sign === '-' ? -1 : 1) * (+oh * 60 + +om) * 60_000 + (micros >= 1_000_000 ? 1000 : 0));
  const uy = utc.getUTCFullYear();
  if (uy < 1 || uy > 9999) return null;
  // Years 1-9999 render as four digits: `YYYY-MM-DDTHH:MM:SS` is the ISO string's start.
  const text = utc.toISOString().slice(0, 19);
  const us = micros % 1_000_000;
  return `${us > 0 ? `${text}.${String(us).padStart(6, '0').replace(/0+$/, '')}` : text}+00:00`;
}
