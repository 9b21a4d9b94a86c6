/**
 * A REAL whose value is integral and at least 2^63 in magnitude (1e+21, -9.3e18, 1.7976931348623157e+308)
 * (9223372036854776000 is 2^63) arrives by bundle pull and is stored as exactly that double. sqlite-wasm binds integral JS
 * numbers through int64, which wraps there (1e+21 became 3.875820019684212736e18); smaller
 * values keep their exact REAL too.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { rows } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE m (id TEXT PRIMARY KEY NOT NULL, f REAL)';
const VALUES = ['1e+21', '-9300000000000000000', '1.7976931348623157e+308', '9223372036854776000', '56955077168786320', '0.5', '-3'];

it('stores integral doubles beyond int64 exactly', async () => {
  const s = await openEngine(SCHEMA, [{ table: 'm', syncKey: 'id' }]);
  await attachStartedEmpty(s);
  const bundleRows = VALUES.map((f, i) => ({
    schema: 'main',
    table: 'm',
    key: { id: `k${i}` },
    op: 'INSERT',
    row_version: i + 1,
    payload: { id: `k${i}`, f },
  }));
  s.server.on('GET', '/sync/pull', {
    status: 200,
    body: { stable_bundle_seq: 1, has_more: false, bundles: [{ bundle_seq: 1, source_id: 'x', source_bundle_id: 1, rows: bundleRows }] },
  });
  await expect(s.engine.pullToStable()).resolves.toMatchObject({ checkpoint: 1, rowsApplied: VALUES.length });
  const stored = rows(s.db, 'SELECT typeof(f) AS t, f FROM m ORDER BY id');
  expect(stored.map((r) => r.t)).toEqual(VALUES.map(() => 'real'));
  stored.forEach((r, i) => expect(Object.is(r.f, Number(VALUES[i])), `${VALUES[i]} stored as ${String(r.f)}`).toBe(true));
});
