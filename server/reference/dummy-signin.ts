/**
 * `POST /dummy-signin {"user","password"}` → `{"token","expires_in","user"}`: the development sign-in
 * of the go-oversync example server. Any password is accepted; the token's `sub` is the user and it
 * lasts 300 seconds. Never expose this in production.
 */
import { MAX_USER_ID_LENGTH, identityProblem } from '../auth/identity.ts';
import { signDevToken } from '../auth/dev-token.ts';
import { readBoundedText } from '../http/request-body.ts';
import type { DummySigninRequest, DummySigninResponse } from '../../protocol/wire.ts';

/** Largest sign-in body read (a user id and a password fit many times over). */
const DUMMY_SIGNIN_MAX_BODY_BYTES = 16 * 1024;

/** Lifetime of a dummy sign-in token, as in go-oversync's example server. */
const DUMMY_SIGNIN_TTL_SECONDS = 300;

function invalid(message: string): Response {
  return Response.json({ error: 'invalid_request', message }, { status: 400 });
}

/** Answers a dummy sign-in request. */
export async function dummySignin(request: Request, jwtSecret: string): Promise<Response> {
  if (request.method !== 'POST') {
    return Response.json({ error: 'method_not_allowed', message: 'Use POST /dummy-signin.' }, { status: 405, headers: { Allow: 'POST' } });
  }
  const text = await readBoundedText(request, DUMMY_SIGNIN_MAX_BODY_BYTES);
  if (text === null)
    return Response.json({ error: 'invalid_request', message: `The body exceeds ${DUMMY_SIGNIN_MAX_BODY_BYTES} bytes.` }, { status: 413 });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return invalid('The body must be JSON: {"user": "<user id>", "password": "<anything>"}.');
  }
  // Fields unchecked until the tests below (the body is any JSON).
  const { user, password } = (body ?? {}) as { [K in keyof DummySigninRequest]?: unknown };
  if (typeof user !== 'string' || user.trim() === '') {
    return invalid('"user" must be a non-blank string; it becomes the token subject (the sync user id).');
  }
  // The subject becomes the user id exactly (never trimmed): refuse what the sync endpoints would.
  const problem = identityProblem(user, MAX_USER_ID_LENGTH);
  if (problem) return invalid(`"user" ${problem}; it becomes the token subject (the sync user id).`);
  if (password !== undefined && typeof password !== 'string') {
    return invalid('"password" must be a string (any value is accepted).');
  }
  const token = await signDevToken(jwtSecret, user, DUMMY_SIGNIN_TTL_SECONDS);
  const answer: DummySigninResponse = { token, expires_in: DUMMY_SIGNIN_TTL_SECONDS, user };
  return Response.json(answer);
}
