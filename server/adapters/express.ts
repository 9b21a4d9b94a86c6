/** The express adapter: a middleware that serves a fetch-style sync handler, mountable under a prefix. */
import type { ServerResponse } from 'node:http';
import { serveNodeRequest } from './node-http.ts';
import type { NodeRequestLike } from './node-request.ts';
import type { AdapterOptions, Authenticate, FetchHandler } from './types.ts';

/**
 * An express-compatible middleware `(req, res, next)`. It answers every request that reaches it, so
 * mount it where only sync traffic arrives.
 */
export type ExpressStyleMiddleware = (req: NodeRequestLike, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * Serves `handle` from express (4 or 5). The handler sees the original, full URL (`originalUrl`),
 * so `app.use('/api', expressMiddleware(...))` passes `/api/sync/pull?…` and the handler matches
 * the `/sync/…` suffix. Works with or without a body parser in front (a parsed body is re-encoded).
 *
 * @example
 * app.use('/api', expressMiddleware(sync.handle, auth.authenticate));
 */
export function expressMiddleware(handle: FetchHandler, authenticate: Authenticate, options: AdapterOptions = {}): ExpressStyleMiddleware {
  return (req, res) => {
    void serveNodeRequest(req, res, handle, authenticate, options);
  };
}
