/** Authenticates a request and runs the handler, answering auth and unexpected failures in the protocol's JSON envelope. */
import { isAuthError } from '../auth/auth-error.ts';
import type { AdapterOptions, Authenticate, FetchHandler, RequestAuth } from './types.ts';

/** The default for {@link AdapterOptions.onError}. */
export function logAdapterError(error: unknown, request: Request): void {
  console.error(`oversqlite adapter: ${request.method} ${new URL(request.url).pathname} failed:`, error);
}

/**
 * The order and the failure answers of every adapter, whatever its request and answer shapes:
 * `authenticate`, then `run`. An `AuthError` becomes its status (401 `authentication_failed`, or
 * 503 `service_unavailable` when the key set is unreachable); anything else thrown becomes 500
 * `internal_error` with a generic message (details go to `onError`, never to the client).
 */
export async function authenticateThenRun<T>(
  authenticate: () => Promise<RequestAuth>,
  run: (auth: RequestAuth) => Promise<T>,
  answerError: (status: number, error: string, message: string) => T,
  onError: (error: unknown) => void,
): Promise<T> {
  let auth: RequestAuth;
  try {
    auth = await authenticate();
  } catch (err) {
    if (isAuthError(err)) {
      const wire = err.toWireError();
      return answerError(err.httpStatus, wire.error, wire.message);
    }
    onError(err);
    return answerError(500, 'internal_error', 'Authentication failed unexpectedly; see the server log.');
  }
  try {
    return await run({ userId: auth.userId });
  } catch (err) {
    onError(err);
    return answerError(500, 'internal_error', 'The request failed unexpectedly; see the server log.');
  }
}

/**
 * Runs `authenticate`, then `handle`, on a fetch `Request` (see {@link authenticateThenRun} for
 * the failure answers).
 */
export function authenticateAndHandle(
  request: Request,
  handle: FetchHandler,
  authenticate: Authenticate,
  options: AdapterOptions,
): Promise<Response> {
  const onError = options.onError ?? logAdapterError;
  return authenticateThenRun(
    () => authenticate(request),
    (auth) => handle(request, auth),
    (status, error, message) => Response.json({ error, message }, { status }),
    (err) => onError(err, request),
  );
}
