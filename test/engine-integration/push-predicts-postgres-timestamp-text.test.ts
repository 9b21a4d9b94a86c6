/**
 * The push predicts how PostgreSQL hands back a pushed timestamp (worker/engine/pg-timestamp.ts),
 * so that a push of `…T08:00:00.000Z` or of nanoseconds proves its committed bundle without
 * downloading it. Checked against real PostgreSQL: `to_jsonb(x::timestamptz)` in UTC, for fixed
 * edge cases and random ones (seed printed). Whatever is predicted must equal PostgreSQL's text.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pgUtcTimestampText } from '../../worker/engine/pg-timestamp.ts';
import { ADMIN_URL } from '../harness/test-database.ts';

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query("SET TimeZone = 'UTC'");
});
afterAll(() => client?.end());

async function postgresText(input: string): Promise<string> {
  const r = await client.query("SELECT to_jsonb($1::timestamptz) #>> '{}' AS t", [input]);
  return (r.rows[0] as { t: string }).t;
}

const FIXED = [
  '2026-03-01T08:00:00.000Z',
  '2026-01-02T03:04:05.123456789Z',
  '2026-01-02T03:04:05.1234565Z',
  '2026-01-02T03:04:05.1234575Z',
  '2026-01-02T03:04:05.0000005Z',
  '2026-12-31T23:59:59.9999996Z',
  '2026-01-02T03:04:05+02:00',
  '2026-01-02T03:04:05.5-01:30',
  '2026-01-02 03:04:05.25+0530',
  '2024-02-29T00:00:00Z',
  '0001-01-01T00:00:00Z',
];

it('predicts PostgreSQL text for edge cases', async () => {
  for (const input of FIXED) expect(pgUtcTimestampText(input), input).toBe(await postgresText(input));
});

it('predicts nothing for input it cannot be sure of', () => {
  for (const input of [
    '2026-01-02',
    '2026-01-02 03:04:05',
    'now',
    '2026-02-30T00:00:00Z',
    '10000-01-01T00:00:00Z',
    '2026-01-02T03:04:05+16:00',
  ]) {
    expect(pgUtcTimestampText(input), input).toBeNull();
  }
});

it('predicts PostgreSQL text for random zoned timestamps', async () => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  console.log(`pg-timestamp randomized seed=${seed}`);
  let s = seed;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  for (let i = 0; i < 300; i++) {
    const digits = Math.floor(r() * 10);
    const frac = digits ? `.${Array.from({ length: digits }, () => Math.floor(r() * 10)).join('')}` : '';
    const zone = r() < 0.5 ? 'Z' : `${r() < 0.5 ? '+' : '-'}${pad(Math.floor(r() * 14), 2)}:${pad(Math.floor(r() * 4) * 15, 2)}`;
    const input = `${pad(1970 + Math.floor(r() * 100), 4)}-${pad(1 + Math.floor(r() * 12), 2)}-${pad(1 + Math.floor(r() * 28), 2)}T${pad(Math.floor(r() * 24), 2)}:${pad(Math.floor(r() * 60), 2)}:${pad(Math.floor(r() * 60), 2)}${frac}${zone}`;
    expect(pgUtcTimestampText(input), `seed=${seed} input=${input}`).toBe(await postgresText(input));
  }
});
