/** The `node:http` adapter: mounts a fetch-style sync handler on a plain Node HTTP server. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticateAndHandle, logAdapterError } from './dispatch.ts';
import { convertNodeRequest } from './node-request.ts';
import type { ConvertedNodeRequest } from './node-request.ts';
import { sendFetchResponse } from './node-response.ts';
import type { AdapterOptions, Authenticate, FetchHandler } from './types.ts';
import type { NodeRequestLike } from './node-request.ts';

/** A `node:http` request listener. */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves every request `handle` gets through a `node:http` listener.
 *
 * The fetch `Request` carries the full URL and all headers; its body streams from the socket; its
 * `signal` aborts when the client disconnects. Response bodies stream, so SSE frames are flushed
 * one by one.
 *
 * @example
 * const auth = createJwtAuth({ secret: process.env.JWT_SECRET! });
 * http.createServer(toNodeHandler(sync.handle, auth.authenticate)).listen(8080);
 */
export function toNodeHandler(handle: FetchHandler, authenticate: Authenticate, options: AdapterOptions = {}): NodeRequestListener {
  return (req, res) => {
    void serveNodeRequest(req as NodeRequestLike, res, handle, authenticate, options);
  };
}

/** Shared by the node:http and express adapters. Never rejects. */
export async function serveNodeRequest(
  req: NodeRequestLike,
  res: ServerResponse,
  handle: FetchHandler,
  authenticate: Authenticate,
  options: AdapterOptions,
): Promise<void> {
  const clientGone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) clientGone.abort(new Error('The client disconnected.'));
  });
  let converted: ConvertedNodeRequest;
  try {
    converted = convertNodeRequest(req, clientGone.signal);
  } catch (err) {
    // An unparsable URL or header: nothing a handler could make sense of.
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: 'invalid_request',
        message: `The request could not be read: ${err instanceof Error ? err.message : String(err)}`,
      }),
    );
    return;
  }
  const { request } = converted;
  const response = await authenticateAndHandle(request, handle, authenticate, options);
  try {
    await sendFetchResponse(response, res, clientGone.signal);
  } catch (err) {
    (options.onError ?? logAdapterError)(err, request);
  } finally {
    converted.discardUnreadBody();
  }
}
