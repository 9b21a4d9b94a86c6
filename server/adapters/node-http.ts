/** The `node:http` adapter: mounts a fetch-style sync handler on a plain Node HTTP server. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { headerAuthenticateOf } from '../auth/header-auth.ts';
import { jsonReply } from '../http/responses.ts';
import { syncServeOf } from '../http/sync-exchange.ts';
import type { SyncReply, SyncServe } from '../http/sync-exchange.ts';
import { authenticateAndHandle, authenticateThenRun, logAdapterError } from './dispatch.ts';
import { convertNodeRequest, fetchHeaders, nodeSyncRequest, requestUrl } from './node-request.ts';
import type { ConvertedNodeRequest } from './node-request.ts';
import { sendFetchResponse, sendSyncReply } from './node-response.ts';
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
 * When `handle` is a `createSyncServer` server's own `handle`, no fetch `Request` or `Response`
 * is built: the server reads the Node request and writes the Node response itself (same routes,
 * answers and streaming), about half the adapter's CPU per request. `authenticate` then gets a
 * `Request` with the method, URL and headers (no body), or, for `createJwtAuth`'s
 * `authenticate`, nothing but the Authorization header.
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
  const serve = syncServeOf(handle);
  if (serve) return serveDirectly(req, res, serve, authenticate, options);
  const clientGone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) clientGone.abort(new Error('The client disconnected.'));
  });
  let converted: ConvertedNodeRequest;
  try {
    converted = convertNodeRequest(req, clientGone.signal);
  } catch (err) {
    refuseUnreadable(res, err);
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

/** An unparsable URL or header: nothing a handler could make sense of. */
function refuseUnreadable(res: ServerResponse, err: unknown): void {
  res.writeHead(400, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      error: 'invalid_request',
      message: `The request could not be read: ${err instanceof Error ? err.message : String(err)}`,
    }),
  );
}

/** {@link serveNodeRequest} for a sync server's own handle: no fetch objects (see {@link toNodeHandler}). */
async function serveDirectly(
  req: NodeRequestLike,
  res: ServerResponse,
  serve: SyncServe,
  authenticate: Authenticate,
  options: AdapterOptions,
): Promise<void> {
  // Only a streamed answer needs a signal; most requests never make one.
  let gone = false;
  let clientGone: AbortController | null = null;
  res.once('close', () => {
    if (res.writableFinished) return;
    gone = true;
    clientGone?.abort(new Error('The client disconnected.'));
  });
  const goneSignal = (): AbortSignal => {
    clientGone ??= new AbortController();
    if (gone && !clientGone.signal.aborted) clientGone.abort(new Error('The client disconnected.'));
    return clientGone.signal;
  };
  let url: URL;
  let described: Request | null = null;
  // What authenticators that take a fetch Request, and onError, get: method, URL and headers.
  const fetchView = (): Request => (described ??= new Request(url, { method: req.method ?? 'GET', headers: fetchHeaders(req.headers) }));
  const byHeaders = headerAuthenticateOf(authenticate);
  try {
    url = requestUrl(req);
    if (byHeaders === undefined) fetchView();
  } catch (err) {
    refuseUnreadable(res, err);
    return;
  }
  const request = nodeSyncRequest(req, url);
  const onError = options.onError ?? logAdapterError;
  const report = (err: unknown): void => {
    let view: Request;
    try {
      view = fetchView();
    } catch {
      view = new Request(url); // headers a fetch Request refuses: the URL at least
    }
    onError(err, view);
  };
  const reply: SyncReply = await authenticateThenRun(
    () => (byHeaders ? byHeaders(request.header) : authenticate(fetchView())),
    (auth) => serve(request, auth),
    (status, error, message) => jsonReply(status, { error, message }),
    report,
  );
  try {
    await sendSyncReply(reply, res, goneSignal);
  } catch (err) {
    report(err);
  } finally {
    request.discardUnreadBody();
  }
}
