// A user id is the token's `sub`, exactly: " bob " is another user than "bob" (it used to be
// trimmed into bob's account), and a subject that cannot be an id (lone surrogate: PostgreSQL
// would store U+FFFD and merge it with another user; NUL; control characters; over 256
// characters) is refused 401 before any database work. A token without `exp` is refused unless
// the host opts out (`requireExp: false`).
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createJwtAuth } from '../../server/auth/index.ts';
import { HARNESS_JWT_SECRET, startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'exact_identities' });
});
afterAll(() => h?.close());

/** An HS256 token with exactly these claims (JSON text given, so lone surrogates survive). */
function token(claimsJson: string, secret = HARNESS_JWT_SECRET): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(claimsJson).toString('base64url');
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

function claims(subJson: string, exp: boolean = true): string {
  const now = Math.floor(Date.now() / 1000);
  return `{"sub":${subJson},"iat":${now}${exp ? `,"exp":${now + 600}` : ''}}`;
}

it('" bob " does not read bob\'s rows', async () => {
  const bob = new RawSyncClient(h.baseUrl, h.tokenFor('bob'), 'bob-phone');
  await bob.connect(false);
  expect(
    (
      await bob.push(1, [
        { schema: 'business', table: 'tags', key: { name: 'secret' }, op: 'INSERT', base_row_version: 0, payload: { name: 'secret' } },
      ])
    ).status,
  ).toBe(200);
  const spaced = new RawSyncClient(h.baseUrl, token(claims('" bob "')), 'spaced-phone');
  const connected = await spaced.connect(false);
  expect(connected.status).toBe(200);
  const pulled = await spaced.pull('?after_bundle_seq=0');
  expect(pulled.status === 200 ? pulled.body.bundles : []).toEqual([]);
  const scopes = await h.database.query<{ user_id: string }>(
    `SELECT user_id FROM sync.user_state WHERE user_id LIKE '%bob%' ORDER BY user_id`,
  );
  expect(scopes.rows.map((r) => r.user_id)).toEqual([' bob ', 'bob']);
});

for (const [name, subJson] of [
  ['a lone surrogate', '"b\\ud800b"'],
  ['NUL', '"bob\\u0000"'],
  ['a newline (log forging)', '"bob\\nGET /sync/pull 200 1.0ms user=admin"'],
  ['3,000 characters', JSON.stringify('u'.repeat(3000))],
  ['only whitespace', '"   "'],
] as const) {
  it(`a subject with ${name}: 401 authentication_failed, nothing stored`, async () => {
    const res = await new RawSyncClient(h.baseUrl, token(claims(subJson)), 'x-phone').connect(false);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('authentication_failed');
    const scopes = await h.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sync.user_state WHERE user_id <> 'bob' AND user_id <> ' bob '`,
    );
    expect(scopes.rows[0]!.n).toBe(0);
  });
}

it('a token without exp is refused by default and accepted with requireExp: false', async () => {
  const noExp = token(claims('"carl"', false));
  const res = await new RawSyncClient(h.baseUrl, noExp, 'carl-phone').connect(false);
  expect(res.status).toBe(401);
  expect(res.body.message).toMatch(/exp/);
  const request = new Request('http://x/sync/connect', { headers: { Authorization: `Bearer ${noExp}` } });
  await expect(createJwtAuth({ secret: HARNESS_JWT_SECRET }).authenticate(request)).rejects.toMatchObject({ code: 'token_claims_invalid' });
  expect(await createJwtAuth({ secret: HARNESS_JWT_SECRET }, { requireExp: false }).authenticate(request)).toEqual({ userId: 'carl' });
});

it('a host authenticator handing over an unusable user id gets 401 too (the handler checks, not only the JWT helper)', async () => {
  const res = await h.server.handle(
    new Request(`${h.baseUrl}/sync/connect`, {
      method: 'POST',
      headers: { 'Oversync-Source-ID': 'd', 'Content-Type': 'application/json' },
      body: '{"has_local_pending_rows":false}',
    }),
    { userId: 'eve\r\nX' },
  );
  expect(res.status).toBe(401);
});
