/** Authenticates a fetch request and runs the handler, answering auth and unexpected failures in the protocol's JSON envelope. */
import { isAuthError } from '../auth/auth-error.ts';
import type { AdapterOptions, Authenticate, FetchHandler } from './types.ts';

function jsonError(status: number, error: string, message: string): Response {
  return Response.json({ error, message }, { status });
}

/** The default for {@link AdapterOptions.onError}. */
export function logAdapterError(error: unknown, request: Request): void {
  console.error(`oversqlite adapter: ${request.method} ${new URL(request.url).pathname} failed:`, error);
}

/**
 * Runs `authenticate`, then `handle`. An `AuthError` becomes `401 authentication_failed` (or `503
 * service_unavailable` when the key set is unreachable); anything else thrown becomes `500
 * internal_error` with a generic message (details go to `onError`, never to the client).
 */
export async function authenticateAndHandle(
  request: Request,
  handle: FetchHandler,
  authenticate: Authenticate,
  options: AdapterOptions,
): Promise<Response> {
  const onError = options.onError ?? logAdapterError;
  let userId: string | null;
  try {
    ({ userId } = await authenticate(request));
  } catch (err) {
    if (isAuthError(err)) {
      const wire = err.toWireError();
      return jsonError(err.httpStatus, wire.error, wire.message);
    }
    onError(err, request);
    return jsonError(500, 'internal_error', 'Authentication failed unexpectedly; see the server log.');
  }
  try {
    return await handle(request, { userId });
  } catch (err) {
    onError(err, request);
    return jsonError(500, 'internal_error', 'The request failed unexpectedly; see the server log.');
  }
}
