/** Writes a fetch `Response` or a sync handler's {@link SyncReply} to a `node:http` response, streaming and flushing each chunk. */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { unreadTextBody } from '../http/response-text.ts';
import type { SyncReply } from '../http/sync-exchange.ts';

function nodeHeaders(response: Response): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return headers;
}

/** Resolves when `res` can take more data, or when it is gone (then `false`). */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = (): void => {
      res.off('close', onClose);
      resolve(true);
    };
    const onClose = (): void => {
      res.off('drain', onDrain);
      resolve(false);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/**
 * Sends `response` on `res`. Each body chunk is written as it is produced (server-sent events
 * reach the client frame by frame). When the client disconnects (`clientGone` aborts), the body
 * stream is cancelled so its producer can stop. Rejects only for a body that failed mid-stream
 * (the connection is then destroyed, as the status line was already sent).
 */
export async function sendFetchResponse(response: Response, res: ServerResponse, clientGone: AbortSignal): Promise<void> {
  const headers = nodeHeaders(response);
  const text = unreadTextBody(response);
  if (text !== undefined) {
    // A body this server built from a string: sent as it is, with its length (not chunked).
    headers['content-length'] ??= Buffer.byteLength(text);
    res.writeHead(response.status, response.statusText || undefined, headers);
    res.end(res.req.method === 'HEAD' ? undefined : text);
    return;
  }
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (response.body === null || res.req.method === 'HEAD') {
    res.end();
    await response.body?.cancel();
    return;
  }
  await pumpBody(response.body, response.headers.get('content-type') ?? '', res, clientGone);
}

/**
 * Sends `reply` on `res`: a text body with its length in one write, a stream chunk by chunk (as
 * {@link sendFetchResponse}). `clientGone` is asked for only when there is a stream to cancel.
 */
export async function sendSyncReply(reply: SyncReply, res: ServerResponse, clientGone: () => AbortSignal): Promise<void> {
  const headers: OutgoingHttpHeaders = { ...reply.headers };
  const head = res.req.method === 'HEAD';
  if (reply.stream === undefined) {
    const body = reply.text ?? reply.bytes;
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    res.writeHead(reply.status, headers);
    res.end(head ? undefined : body);
    return;
  }
  res.writeHead(reply.status, headers);
  if (head) {
    res.end();
    await reply.stream.cancel();
    return;
  }
  await pumpBody(reply.stream, reply.headers['Content-Type'] ?? '', res, clientGone());
}

/** Writes `body` to `res` chunk by chunk with backpressure; see {@link sendFetchResponse} for failures. */
async function pumpBody(
  body: ReadableStream<Uint8Array>,
  contentType: string,
  res: ServerResponse,
  clientGone: AbortSignal,
): Promise<void> {
  if (contentType.startsWith('text/event-stream')) {
    // Send the status line and headers now: the first event may be a long way off.
    res.flushHeaders();
  }
  const reader = body.getReader();
  const cancel = (): void => {
    reader.cancel(clientGone.reason).catch(() => undefined);
  };
  if (clientGone.aborted) cancel();
  else clientGone.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(value) && !(await drained(res))) return;
    }
    res.end();
  } catch (err) {
    if (clientGone.aborted) return; // the cancellation we caused
    // The status line is out; the only way to tell the client the body is incomplete is to close
    // the connection without the final chunk. Ending the socket (rather than destroying it) still
    // delivers what was already written.
    if (res.socket) res.socket.end();
    else res.destroy();
    throw err;
  } finally {
    clientGone.removeEventListener('abort', cancel);
  }
}
